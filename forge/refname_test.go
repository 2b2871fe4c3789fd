package forge

import (
	"errors"
	"os/exec"
	"testing"
)

// refCases are refs with the verdict of `git check-ref-format` (gitOK) and
// of ValidateRef (ok), which refuses more: branch or tag names beginning
// with "-" or named HEAD, and invalid UTF-8.
var refCases = []struct {
	ref       string
	gitOK, ok bool
}{
	{"refs/heads/main", true, true},
	{"refs/heads/feature/cart-2", true, true},
	{"refs/tags/v1.0.0", true, true},
	{"refs/heads/ünïcødé", true, true},
	{"refs/heads/a.b", true, true},
	{"refs/heads/a@b", true, true},
	{"refs/heads/a..b", false, false},
	{"refs/heads/--upload-pack=touch /tmp/x", false, false},
	{"refs/heads/--upload-pack=x", true, false},
	{"refs/heads/-x", true, false},
	{"refs/tags/-x", true, false},
	{"refs/heads/HEAD", true, false},
	{"refs/heads/\xff\xfe", true, false},
	{"refs/heads/a b", false, false},
	{"refs/heads/a~1", false, false},
	{"refs/heads/a^", false, false},
	{"refs/heads/a:b", false, false},
	{"refs/heads/a?", false, false},
	{"refs/heads/a*", false, false},
	{"refs/heads/a[b", false, false},
	{"refs/heads/a\\b", false, false},
	{"refs/heads/a\x01b", false, false},
	{"refs/heads/a\x7fb", false, false},
	{"refs/heads/a@{1}", false, false},
	{"refs/heads/.hidden", false, false},
	{"refs/heads/a/.b", false, false},
	{"refs/heads/a.lock", false, false},
	{"refs/heads/a.lock/b", false, false},
	{"refs/heads/a.", false, false},
	{"refs/heads//a", false, false},
	{"refs/heads/a/", false, false},
	{"/refs/heads/a", false, false},
	{"refs/heads/", false, false},
	{"main", false, false},
	{"@", false, false},
}

func TestValidateRef(t *testing.T) {
	for _, tt := range refCases {
		t.Run(tt.ref, func(t *testing.T) {
			if err := CheckRefFormat(tt.ref); (err == nil) != tt.gitOK {
				t.Errorf("CheckRefFormat = %v, want ok %v", err, tt.gitOK)
			}
			err := ValidateRef(tt.ref)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Errorf("ValidateRef = %v, want ok %v (or ErrMalformed)", err, tt.ok)
			}
		})
	}
}

// TestCheckRefFormatAgreesWithGit runs the real `git check-ref-format` on
// every ref of the table and compares its verdict with CheckRefFormat's.
func TestCheckRefFormatAgreesWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is not installed: %v", err)
	}
	for _, tt := range refCases {
		err := exec.Command(git, "check-ref-format", tt.ref).Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("git check-ref-format %q: %v", tt.ref, err)
		}
		if gitOK := err == nil; gitOK != tt.gitOK || (CheckRefFormat(tt.ref) == nil) != gitOK {
			t.Errorf("%q: git says ok=%v, the table %v, CheckRefFormat %v", tt.ref, gitOK, tt.gitOK, CheckRefFormat(tt.ref))
		}
	}
}
