// Package checks runs the checks slipway.yaml declares (tests, linters) on
// every commit planned for a build: each pull request head and each commit
// of a followed branch. A check runs once per (commit, check), whatever its
// outcome, under a claim (check.<repo>.<sha>.<name>); its result, with the
// last lines of its output, is the claim's record and a CheckFinished event.
//
// Gate turns those records into a verdict for an automatic deploy: pending
// while a check runs, blocked once one failed. Redrive asks for the deploys
// of a built commit again when its last check finishes, so whichever ends
// last, the builds or the checks, lets the commit through.
//
// A check runs repository code: the Runner builds it like an image (no
// network unless the check declares it, no host mount, the builder's
// limits) and pushes nothing.
package checks
