//go:build tools

// Package tools pins golangci-lint, which scripts/setup.sh builds into
// $SLIPWAY_HOME/bin for `go tool task lint`.
package tools

import _ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
