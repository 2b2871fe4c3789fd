//go:build !unix

package gitmirror

import "os/exec"

// killGroup leaves cmd as it is: without process groups, cancellation
// kills git alone.
func killGroup(*exec.Cmd) {}
