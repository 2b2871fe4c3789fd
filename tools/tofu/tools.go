//go:build tools

// Package tools pins OpenTofu, whose tofu command scripts/setup.sh builds
// into $SLIPWAY_HOME/bin and into the image localhost:5000/mirror/tofu:<version>
// that the end-to-end test of provisioning runs.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
