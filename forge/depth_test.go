package forge

import (
	"bytes"
	"testing"
)

// TestCheckDepth checks the nesting limit every forge decodes behind.
func TestCheckDepth(t *testing.T) {
	nest := func(n int) string { return string(bytes.Repeat([]byte("["), n)) + string(bytes.Repeat([]byte("]"), n)) }
	tests := []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"flat", `{"a":1}`, false},
		{"at the limit", nest(MaxDepth), false},
		{"one past the limit", nest(MaxDepth + 1), true},
		{"unclosed past the limit", string(bytes.Repeat([]byte("{\"a\":"), MaxDepth+1)), true},
		{"brackets in strings do not count", `{"a":"` + nest(MaxDepth+10) + `"}`, false},
		{"escaped quote keeps the string open", `{"a":"\"` + nest(MaxDepth+10) + `"}`, false},
		{"escaped backslash closes the string", `{"a":"\\"` + nest(MaxDepth+1) + `}`, true},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDepth([]byte(tt.payload), MaxDepth)
			if (err != nil) != tt.wantErr {
				t.Errorf("CheckDepth = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
