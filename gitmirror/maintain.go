package gitmirror

import (
	"context"
	"strconv"

	"github.com/rs/zerolog"
)

// AutoPackLimit is how many packs a mirror may hold before its next fetch
// repacks it. Every fetch lands as one pack (fetchArgs), so without a
// repack their number grows with the fetches, and every read looks
// through all of them.
const AutoPackLimit = 20

// maintainArgs collect a mirror's garbage the way `git gc --auto` does, with
// nothing ever pruned: a commit no branch reaches any more (after a
// force-push) goes to a cruft pack and stays there, since a deploy or a
// rollback may still need it. The mirror's own gc.auto is 0, so a fetch
// never collects on its own; this is the one place that does.
var maintainArgs = []string{
	"-c", "gc.auto=6700", "-c", "gc.autoPackLimit=" + strconv.Itoa(AutoPackLimit),
	"-c", "gc.pruneExpire=never", "-c", "gc.cruftPacks=true", "-c", "gc.reflogExpireUnreachable=never",
	"-c", "gc.autoDetach=false", "gc", "--auto", "--quiet",
}

// maintain collects gitDir's garbage after a fetch, when git says it is
// due, bounded by the mirror's timeout. It runs under the repository's
// lock; a failure costs only reads a little speed, so it is logged.
func (m *Mirror) maintain(ctx context.Context, gitDir string) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	if _, err := m.run(ctx, gitDir, "", maintainArgs...); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("mirror", gitDir).Msg("git gc of the mirror failed")
	}
}
