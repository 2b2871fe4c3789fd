package gittest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SSHD is a real OpenSSH server on 127.0.0.1 that lets the keys given to
// Authorize run git-shell only, the way a git host serves deploy keys.
type SSHD struct {
	tb       testing.TB
	dir      string
	Port     int
	hostKey  string // public host key, "ssh-ed25519 AAAA..."
	authKeys string
}

// Missing skips the test because a component is not installed, or fails
// it with CI=true.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...) + " (run scripts/setup.sh)"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// MustSSHD starts sshd (Debian's openssh-server) in the foreground with a
// host key and configuration of its own in a temporary directory, on a
// free port of 127.0.0.1, stopped when the test ends. It must run as root,
// which it logs in as.
func MustSSHD(tb testing.TB) *SSHD {
	tb.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
		if _, err := os.Stat(sshd); err != nil {
			Missing(tb, "gittest: sshd is not installed (openssh-server)")
		}
	}
	if os.Geteuid() != 0 {
		Missing(tb, "gittest: sshd needs root")
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // its privilege separation directory
		tb.Fatalf("gittest: %v", err)
	}
	s := &SSHD{tb: tb, dir: tb.TempDir()}
	s.authKeys = filepath.Join(s.dir, "authorized_keys")
	if err := os.WriteFile(s.authKeys, nil, 0o600); err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	s.hostKey = s.keygen("host")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close() // only held to pick a free port for sshd
	config := filepath.Join(s.dir, "sshd_config")
	conf := strings.Join([]string{
		"Port " + strconv.Itoa(s.Port), "ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(s.dir, "host"), "PidFile none",
		"AuthorizedKeysFile " + s.authKeys, "StrictModes no", "UsePAM no",
		"PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password", "LogLevel VERBOSE", "",
	}, "\n")
	if err := os.WriteFile(config, []byte(conf), 0o600); err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", config)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		tb.Fatalf("gittest: start sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-exited:
			tb.Fatalf("gittest: sshd exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gittest: sshd does not listen on port %d after 10s", s.Port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keygen creates an ed25519 key pair dir/name and returns its public key.
func (s *SSHD) keygen(name string) string {
	s.tb.Helper()
	return MustKey(s.tb, filepath.Join(s.dir, name))
}

// MustKey creates an unencrypted ed25519 key pair at path (and path.pub)
// and returns its public key.
func MustKey(tb testing.TB, path string) string {
	tb.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gittest", "-f", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("gittest: ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	return strings.TrimSpace(string(pub))
}

// Authorize lets the public key pub log in, to run git-shell only.
func (s *SSHD) Authorize(pub string) {
	s.tb.Helper()
	f, err := os.OpenFile(s.authKeys, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.tb.Fatalf("gittest: %v", err)
	}
	defer f.Close()
	line := `command="git-shell -c \"$SSH_ORIGINAL_COMMAND\"",no-port-forwarding,no-pty,no-agent-forwarding ` + pub + "\n"
	if _, err := f.WriteString(line); err != nil {
		s.tb.Fatalf("gittest: %v", err)
	}
}

// KnownHosts is the known_hosts line pinning the server's host key.
func (s *SSHD) KnownHosts() string {
	return "[127.0.0.1]:" + strconv.Itoa(s.Port) + " " + s.hostKey + "\n"
}

// URL is the SSH URL of the bare repository at the absolute path bare.
func (s *SSHD) URL(bare string) string {
	return "ssh://root@127.0.0.1:" + strconv.Itoa(s.Port) + filepath.ToSlash(bare)
}
