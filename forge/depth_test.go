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

// FuzzCheckDepth compares CheckDepth with a byte-at-a-time count.
func FuzzCheckDepth(f *testing.F) {
	f.Add([]byte(`{"a":"\\"[[[","b":[[[]]]}`))
	f.Add([]byte(`"\\\\\"[[[[`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		const limit = 3
		depth, deepest, inString, escaped := 0, 0, false, false
		for _, c := range payload {
			switch {
			case inString && escaped:
				escaped = false
			case inString && c == '\\':
				escaped = true
			case inString && c == '"':
				inString = false
			case inString:
			case c == '"':
				inString = true
			case c == '[' || c == '{':
				depth++
				deepest = max(deepest, depth)
			case c == ']' || c == '}':
				depth--
			}
		}
		if got := CheckDepth(payload, limit) != nil; got != (deepest > limit) {
			t.Errorf("CheckDepth(%q) error %v, want %v", payload, got, deepest > limit)
		}
	})
}
