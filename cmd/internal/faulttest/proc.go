package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is one process of Slipway (or nats-server), its output appended to a
// log file across restarts.
type Proc struct {
	Name string
	bin  string
	args []string
	log  string
	tb   testing.TB

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartProc starts bin with args and stops it when the test ends.
func StartProc(tb testing.TB, name, bin string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Name: name, bin: bin, args: args, log: filepath.Join(tb.TempDir(), name+".log"), tb: tb}
	p.Start()
	tb.Cleanup(func() {
		p.Stop()
		if tb.Failed() || os.Getenv("FAULTTEST_VERBOSE") != "" {
			tb.Logf("--- last lines of %s ---\n%s", name, p.Tail(30))
		}
	})
	return p
}

// Start starts the process (again).
func (p *Proc) Start() {
	p.tb.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.tb.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		p.tb.Fatalf("start %s: %v", p.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// Alive reports whether the process runs.
func (p *Proc) Alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Holds reports whether holder, the holder of a claim
// ("<component>/<host>/<pid>/<random>#<lease>"), is this process as it runs
// now.
func (p *Proc) Holds(holder string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && p.cmd.Process != nil && strings.Contains(holder, fmt.Sprintf("/%d/", p.cmd.Process.Pid))
}

// Kill sends SIGKILL (kill -9) and waits until the process is gone.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL, 10*time.Second) }

// Stop sends SIGTERM and waits up to 20 seconds for a drain, then kills.
func (p *Proc) Stop() {
	if !p.signal(syscall.SIGTERM, 20*time.Second) {
		p.Kill()
	}
}

func (p *Proc) signal(sig syscall.Signal, wait time.Duration) bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}

// Tail returns the last n lines of the log.
func (p *Proc) Tail(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
