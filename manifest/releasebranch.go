package manifest

import "strings"

// ReleaseBranch is the branch `slipway release` pins commit sha of e on:
// release/<env>-<first 12 hex digits of sha>.
func (e Environment) ReleaseBranch(sha string) string {
	return "release/" + e.Name + "-" + sha[:min(12, len(sha))]
}

// ReleaseOf returns the environment following a pin file whose release
// branch branch is (ReleaseBranch), false when it is no release branch.
func (m *Manifest) ReleaseOf(branch string) (Environment, bool) {
	rest, ok := strings.CutPrefix(branch, "release/")
	if !ok || len(rest) < 14 || rest[len(rest)-13] != '-' || strings.Trim(rest[len(rest)-12:], "0123456789abcdef") != "" {
		return Environment{}, false
	}
	for _, e := range m.Environments() {
		if e.Follows == FollowsPin && rest[:len(rest)-13] == e.Name {
			return e, true
		}
	}
	return Environment{}, false
}
