//go:build tools

// Package tools pins promtool, which the metrics tests run (`promtool
// check metrics`); scripts/setup.sh builds it into $SLIPWAY_HOME/bin.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
