package manifest

import (
	"fmt"
	"strings"
)

// MaxNameLen is the longest service name: it becomes part of image
// references, container names and DNS labels.
const MaxNameLen = 40

// checkName returns what is wrong with a service name, or "".
func checkName(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > MaxNameLen:
		return "must be at most 40 characters"
	case strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != "":
		return "must contain only lower-case letters, digits and '-'"
	case s[0] == '-' || s[len(s)-1] == '-':
		return "must start and end with a letter or digit"
	}
	return ""
}

// checkRelPath returns what is wrong with a path that must stay inside the
// repository, or "".
func checkRelPath(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.HasPrefix(s, "/"):
		return "must be a relative path"
	case strings.Contains(s, `\`):
		return "must use '/' as separator"
	case hasControl(s):
		return "must not contain control characters"
	}
	for _, elem := range strings.Split(s, "/") {
		if elem == ".." {
			return `must stay inside the repository (no "..")`
		}
	}
	return ""
}

// checkHealth returns what is wrong with an HTTP health-check path, or "".
func checkHealth(s string) string {
	switch {
	case !strings.HasPrefix(s, "/"):
		return `must start with "/"`
	case strings.ContainsAny(s, " \t#") || hasControl(s):
		return "must not contain spaces, '#' or control characters"
	}
	return ""
}

// checkEnvName returns what is wrong with an environment variable name, or "".
func checkEnvName(s string) string {
	if s == "" {
		return "variable name must not be empty"
	}
	for i, c := range s {
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return "variable name must match [A-Za-z_][A-Za-z0-9_]*"
		}
	}
	return ""
}

// MaxEnvEntry is the longest "NAME=value" a container can be given: the
// kernel refuses to exec a process with a longer environment string
// (MAX_ARG_STRLEN, 32 pages of 4 KiB, counting its final NUL).
const MaxEnvEntry = 32*4096 - 1

// checkEnvValue returns what is wrong with the value of the variable name,
// or "". A NUL byte cannot be passed to a process at all: the container
// runtime refuses it when the container starts, long after validation.
func checkEnvValue(name, value string) string {
	switch {
	case strings.IndexByte(value, 0) >= 0:
		return "value must not contain a NUL byte"
	case len(name)+1+len(value) > MaxEnvEntry:
		return fmt.Sprintf("%s=value is %d bytes, more than the %d a process can be given", name, len(name)+1+len(value), MaxEnvEntry)
	}
	return ""
}

// hasControl reports whether s contains an ASCII control character.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
