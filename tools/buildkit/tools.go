//go:build tools

// Package tools pins the BuildKit daemon and client that scripts/setup.sh
// builds. It is never compiled: the blank imports only keep the module graph
// (go.mod and go.sum) complete so that the binaries build reproducibly.
package tools

import (
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
