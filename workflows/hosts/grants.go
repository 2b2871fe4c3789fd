package hosts

import (
	"fmt"
	"sort"
	"strings"
)

// Grants are the host names each repository may declare, by repository
// ("owner/name") as patterns: a host name ("shop.example.com"), or "*." and
// a host name, matching any host with exactly one more label in front
// ("*.shop.example.com" matches "www.shop.example.com", neither
// "shop.example.com" nor "a.b.shop.example.com"). It is a flag.Value:
// "acme/shop=*.shop.example.com,shop.example.com", repeatable.
type Grants map[string][]string

// String implements flag.Value.
func (g Grants) String() string {
	repos := make([]string, 0, len(g))
	for r := range g {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	parts := make([]string, 0, len(repos))
	for _, r := range repos {
		parts = append(parts, r+"="+strings.Join(g[r], ","))
	}
	return strings.Join(parts, " ")
}

// Set implements flag.Value: it adds the patterns of one
// "owner/name=pattern,pattern" to the repository's.
func (g Grants) Set(v string) error {
	repo, list, ok := strings.Cut(strings.TrimSpace(v), "=")
	repo = strings.TrimSpace(repo)
	if !ok || repo == "" || !strings.Contains(repo, "/") || list == "" {
		return fmt.Errorf("host grant %q: want owner/name=host[,*.domain,...]", v)
	}
	for _, p := range strings.Split(list, ",") {
		p = Normalize(p)
		if err := checkPattern(p); err != nil {
			return fmt.Errorf("host grant of %s: %w", repo, err)
		}
		g[repo] = append(g[repo], p)
	}
	return nil
}

// Allows reports whether repo may declare host.
func (g Grants) Allows(repo, host string) bool {
	for _, p := range g[repo] {
		if Match(p, host) {
			return true
		}
	}
	return false
}

// Match reports whether host matches pattern (see Grants). Both are
// compared as Normalize leaves them.
func Match(pattern, host string) bool {
	pattern, host = Normalize(pattern), Normalize(host)
	suffix, wild := strings.CutPrefix(pattern, "*.")
	if !wild {
		return pattern == host
	}
	first, rest, ok := strings.Cut(host, ".")
	return ok && first != "" && rest == suffix
}

// Normalize returns host as the proxy compares it: lower-case, without
// spaces or a trailing dot.
func Normalize(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

// checkPattern rejects a pattern that is not a host name, with at most a
// leading "*." label.
func checkPattern(p string) error {
	name := strings.TrimPrefix(p, "*.")
	if strings.Contains(name, "*") {
		return fmt.Errorf("pattern %q: a wildcard is allowed only as the whole first label (*.example.com)", p)
	}
	if !isHostName(name) || (name != p && !strings.Contains(name, ".")) {
		return fmt.Errorf("pattern %q is not a host name such as shop.example.com or *.shop.example.com", p)
	}
	return nil
}

// isHostName reports whether s is a host name of DNS labels.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !isLabel(l) {
			return false
		}
	}
	return true
}

// isLabel reports whether s is one lower-case DNS label.
func isLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
