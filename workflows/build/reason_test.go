package build_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/workflows/build"
)

func TestReason(t *testing.T) {
	long := strings.Repeat("é", build.MaxReason)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain message kept", errors.New("service web: COPY app.txt: not found"), "service web: COPY app.txt: not found"},
		{"control characters become one space", errors.New("a\x00b\r\nc\x1b[31md\te"), "a b c [31md e"},
		{"invalid UTF-8 replaced", errors.New("x\xffy"), "x y"},
		{"long message cut", errors.New(long), strings.Repeat("é", (build.MaxReason-len(" [...]"))/2) + " [...]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build.Reason(tt.err)
			if got != tt.want {
				t.Errorf("Reason() = %q, want %q", got, tt.want)
			}
			if len(got) > build.MaxReason {
				t.Errorf("Reason() is %d bytes, more than %d", len(got), build.MaxReason)
			}
		})
	}
}
