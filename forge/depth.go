package forge

import (
	"bytes"
	"fmt"
)

// MaxDepth is the deepest nesting of JSON arrays and objects a payload may
// have. Real webhook payloads nest less than a dozen levels; the JSON decoder
// recurses once per level (github.com/segmentio/encoding/json's parseValue
// and parseArray), and a goroutine overflowing its stack is a fatal error no
// recover can catch: a 10 MB body of "[" ends the whole process. Decode
// refuses deeper payloads before decoding.
const MaxDepth = 64

// CheckDepth reports, in one linear pass over payload and without
// allocating, an error wrapping ErrMalformed when arrays and objects nest
// deeper than limit. Brackets inside strings do not count. It checks nothing else: malformed
// JSON within the limit is left to the decoder.
func CheckDepth(payload []byte, limit int) error {
	depth := 0
	for i := 0; i < len(payload); i++ {
		switch payload[i] {
		case '"':
			end := stringEnd(payload, i)
			if end < 0 {
				return nil // unterminated: the decoder says so
			}
			i = end
		case '[', '{':
			if depth++; depth > limit {
				return fmt.Errorf("%w: json nests deeper than %d levels at byte %d", ErrMalformed, limit, i)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// stringEnd returns the index of the quote closing the string opened at
// payload[open], or -1. It jumps from quote to quote (bytes.IndexByte) and
// counts the backslashes before each: an even number leaves it unescaped.
// Each backslash is counted at most once, so the scan stays linear.
func stringEnd(payload []byte, open int) int {
	for j := open + 1; ; j++ {
		k := bytes.IndexByte(payload[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		n := 0
		for b := j - 1; b > open && payload[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return j
		}
	}
}
