package forge

import "fmt"

// MaxDepth is the deepest nesting of JSON arrays and objects a payload may
// have. Real webhook payloads nest less than a dozen levels; the JSON decoder
// recurses once per level (github.com/segmentio/encoding/json's parseValue
// and parseArray), and a goroutine overflowing its stack is a fatal error no
// recover can catch: a 10 MB body of "[" ends the whole process. Decode
// refuses deeper payloads before decoding.
const MaxDepth = 64

// CheckDepth reports, in one pass over payload and without allocating, an
// error wrapping ErrMalformed when arrays and objects nest deeper than max.
// Brackets inside strings do not count. It checks nothing else: malformed
// JSON within the limit is left to the decoder.
func CheckDepth(payload []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for i, c := range payload {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > max {
				return fmt.Errorf("%w: json nests deeper than %d levels at byte %d", ErrMalformed, max, i)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}
