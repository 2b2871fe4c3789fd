package gitmirror

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// maxStderr bounds the part of git's standard error kept for an error.
const maxStderr = 4 << 10

// gitEnv is the environment of every git command: no prompts, stable
// messages, and none of the caller's GIT_* variables that would point git at
// another repository.
func gitEnv() []string {
	env := []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=", "LC_ALL=C", "LANG=C"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
			"GIT_TERMINAL_PROMPT", "GIT_ASKPASS", "SSH_ASKPASS", "LC_ALL", "LANG":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// command prepares git with args against the bare repository gitDir.
func (m *Mirror) command(ctx context.Context, gitDir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, m.gitPath, append([]string{"--git-dir=" + gitDir}, args...)...)
	cmd.Env = m.env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs git and returns its standard output. On failure the error names
// the command and git's last words, with the credentials of secretURL removed.
func (m *Mirror) run(ctx context.Context, gitDir, secretURL string, args ...string) ([]byte, error) {
	return m.runCmd(m.command(ctx, gitDir, args...), secretURL, args)
}

// runCmd runs cmd, whose arguments after --git-dir are args, as run does;
// secrets are removed from git's words too.
func (m *Mirror) runCmd(cmd *exec.Cmd, secretURL string, args []string, secrets ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{buf: &stderr, n: maxStderr}
	out, err := cmd.Output()
	if err != nil {
		return out, &gitError{
			args:   subcommand(args),
			stderr: scrubSecrets(scrub(strings.TrimSpace(stderr.String()), secretURL), secrets),
			err:    err,
		}
	}
	return out, nil
}

// subcommand returns the git subcommand in args, for messages: the full
// command line would repeat what the caller's message already says.
func subcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-c":
			i++
		case !strings.HasPrefix(args[i], "-"):
			return args[i]
		}
	}
	return strings.Join(args, " ")
}

// gitError is a failed git command.
type gitError struct {
	args   string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	if e.stderr == "" {
		return fmt.Sprintf("git %s: %v", e.args, e.err)
	}
	return fmt.Sprintf("git %s: %s", e.args, lastLines(e.stderr, 3))
}

func (e *gitError) Unwrap() error { return e.err }

// lastLines returns at most n trailing lines of s, joined by "; ".
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	buf *bytes.Buffer
	n   int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.n - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// redactURL returns rawURL without its user information, for errors. Unlike
// forge.StripCredentials it never fails: it must also take file:// URLs and
// scp-style addresses (git@host:owner/repo.git), which it returns unchanged
// since they hold no secret.
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	u.User = nil
	return u.String()
}

// scrub removes the credentials of secretURL from s.
func scrub(s, secretURL string) string {
	u, err := url.Parse(secretURL)
	if err != nil || u.User == nil {
		return s
	}
	s = strings.ReplaceAll(s, secretURL, redactURL(secretURL))
	s = strings.ReplaceAll(s, u.User.String()+"@", "")
	// A token may also show up on its own; short strings are left alone so
	// that a user name such as "git" does not mangle the message.
	p, _ := u.User.Password()
	for _, secret := range []string{u.User.Username(), p} {
		if len(secret) >= 8 {
			s = strings.ReplaceAll(s, secret, "xxxxx")
		}
	}
	return s
}

// scrubSecrets replaces every secret in s.
func scrubSecrets(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "xxxxx")
		}
	}
	return s
}
