package readmodel

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/slipway-dev/slipway/events"
)

// Keys of the read model's records. Every free-form part is encoded by
// events.KeyPart (repositories by events.RepoKey), so a key holds only
// what KV allows.
func repoKey(repo string) string        { return events.RepoKey(repo) }
func commitKey(repo, sha string) string { return events.RepoKey(repo) + "." + events.KeyPart(sha) }
func envKey(repo, env string) string    { return events.EnvKey(repo, env) }
func deployPage(repo, env string, n int) string {
	return "d." + events.EnvKey(repo, env) + "." + strconv.Itoa(n)
}
func commitPage(repo string, n int) string {
	return "c." + events.RepoKey(repo) + "." + strconv.Itoa(n)
}
func planKey(repo, env string, number int) string {
	return events.EnvKey(repo, env) + "." + strconv.Itoa(number)
}

// idKey is the key of an event id in the index: a hash, since ids hold
// characters keys may not.
func idKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:20])
}
