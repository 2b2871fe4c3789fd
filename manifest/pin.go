package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// MaxPinSize is the largest pin file ParsePin reads.
const MaxPinSize = 64 << 10

// ParsePin returns the commit a pin file names. A pin file is YAML with one
// field, "commit", holding a full commit id:
//
//	commit: 0123456789abcdef0123456789abcdef01234567
//
// Every error is events.Permanent.
func ParsePin(data []byte) (string, error) {
	if len(data) > MaxPinSize {
		return "", events.Permanent(fmt.Errorf("pin file is %d bytes, more than the limit of %d", len(data), MaxPinSize))
	}
	root, err := parseDocument(data)
	if err != nil {
		return "", events.Permanent(fmt.Errorf("pin file: %s", strings.TrimPrefix(err.Error(), Filename)))
	}
	d := &decoder{}
	f, ok := d.mapping("", root, "commit")
	var sha string
	if ok {
		if v, found := f.get("commit"); !found {
			d.fail("commit", root, "required")
		} else if s, ok := d.envValue("commit", v.value); ok {
			// An all-digit commit id is a YAML number: take the text.
			sha = strings.TrimSpace(s)
			if !IsCommit(sha) {
				d.fail("commit", v.value, "must be a full commit id (40 or 64 lower-case hex digits)")
			}
		}
	}
	if err := d.err(); err != nil {
		return "", events.Permanent(pinError(err))
	}
	return sha, nil
}

// pinError renames the file in the messages of the shared decoder.
func pinError(err error) error {
	return errors.New("pin file" + strings.ReplaceAll(strings.TrimPrefix(err.Error(), Filename), "\n"+Filename, "; pin file"))
}

// FormatPin returns the content of the pin file of env naming sha.
func FormatPin(env, sha string) []byte {
	return []byte(fmt.Sprintf("# The commit %s runs. Slipway deploys it, from the images built for it,\n"+
		"# when a change of this file reaches the default branch (`slipway release`).\n"+
		"commit: %s\n", env, sha))
}

// IsCommit reports whether s is a full lower-case hex commit id: 40 digits
// (SHA-1) or 64 (SHA-256).
func IsCommit(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
