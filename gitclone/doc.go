// Package gitclone is the operator's local clone of a repository, as the
// slipway CLI uses it: it reads files and history at any commit, and
// commits one file on a new branch without touching the working tree, the
// index or the checked-out branch (a temporary index and git plumbing), then
// pushes that branch. `slipway release` writes the pin file of a release
// this way.
//
// It never force-pushes, and refuses to overwrite a branch that exists.
package gitclone
