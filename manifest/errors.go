package manifest

import (
	"fmt"
	"strings"
)

// Filename is the name of the manifest at the root of the user's repository.
const Filename = "slipway.yaml"

// FieldError is one problem found in a manifest. Parse and Validate return
// them joined (errors.Join) and wrapped in events.Permanent; errors.As finds
// each one.
type FieldError struct {
	// Path is the field, e.g. "services[1].port"; empty for the whole file.
	Path string
	// Line is the 1-based line of the field in the file, 0 when unknown.
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as "slipway.yaml:<line>: <path>: <msg>".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(Filename)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
