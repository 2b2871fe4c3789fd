package hosts

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// DefaultHost is the host every service of every environment answers at:
// "<service>.<env>.<label>.<domain>".
func DefaultHost(service, env, label, domain string) string {
	return service + "." + env + "." + label + "." + Normalize(domain)
}

// Candidates returns the host labels repo may get, in order: the last
// element of its name ("acme/shop" → "shop"), the name and the owner
// ("shop-acme"), the name and a hash of the full name. Each is one
// lower-case DNS label; characters a label cannot hold become "-".
func Candidates(repo string) []string {
	parts := strings.Split(strings.Trim(repo, "/"), "/")
	name := sanitize(parts[len(parts)-1])
	out := []string{name}
	if owner := sanitize(strings.Join(parts[:len(parts)-1], "-")); owner != "" {
		out = append(out, joinLabel(name, owner))
	}
	sum := sha256.Sum256([]byte(repo))
	return append(out, joinLabel(name, hex.EncodeToString(sum[:4])))
}

// sanitize makes s one DNS label: lower case, every run of other characters
// a single "-", at most 63 characters, "repo" when nothing is left.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	if out == "" {
		return "repo"
	}
	return out
}

// joinLabel is "<a>-<b>", a shortened so that the whole fits one label.
func joinLabel(a, b string) string {
	if len(b) > 31 {
		b = strings.TrimRight(b[:31], "-")
	}
	if room := 63 - len(b) - 1; len(a) > room {
		a = strings.TrimRight(a[:room], "-")
	}
	return a + "-" + b
}
