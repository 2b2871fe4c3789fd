package forgetest

import (
	"bytes"
	"strings"
)

// DeepNesting returns payloads nesting arrays or objects far deeper than
// forge.MaxDepth: a bare run of "[" (the shape that overflowed the JSON
// decoder's stack at a few million levels), and a payload of the shape the
// hosts send whose repository nests objects. Every forge's fuzz corpus is
// seeded with them, and the suite checks each is ErrMalformed.
func DeepNesting() [][]byte {
	return [][]byte{
		bytes.Repeat([]byte("["), 200_000),
		[]byte(`{"ref":"refs/heads/main","repository":` + strings.Repeat(`{"full_name":`, 10_000) + `"a/b"` + strings.Repeat("}", 10_000) + `}`),
	}
}
