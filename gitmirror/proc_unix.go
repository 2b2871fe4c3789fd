//go:build unix

package gitmirror

import (
	"os/exec"
	"syscall"
)

// killGroup starts cmd in a process group of its own and has its
// cancellation kill the whole group: git leaves the transfer to a helper
// (git-remote-http, ssh) that would otherwise outlive it, holding the
// connection.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
