package provision

import (
	"regexp"
	"strings"
)

// MaxOutput is how much of a run's output (its end) an event and a plan
// comment keep.
const MaxOutput = 8 << 10

// ansi matches the escape sequences of coloured terminal output.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]`)

// Clean removes ANSI escapes and carriage returns from out and keeps its
// last MaxOutput bytes, starting at a line.
func Clean(out string) string {
	out = ansi.ReplaceAllString(out, "")
	out = strings.ReplaceAll(out, "\r", "")
	if len(out) <= MaxOutput {
		return out
	}
	out = out[len(out)-MaxOutput:]
	if i := strings.IndexByte(out, '\n'); i >= 0 && i < len(out)-1 {
		out = out[i+1:]
	}
	return "…\n" + out
}

// lastLines returns the last n lines of out.
func lastLines(out string, n int) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
