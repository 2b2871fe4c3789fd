// Package registry is a small client of the OCI Distribution API, enough
// for Slipway's clean-up: list the tags of a repository, resolve a tag to
// its manifest digest, delete a manifest, and copy a manifest to a new tag.
// It speaks plain HTTP to localhost registries and HTTPS to every other,
// without authentication.
//
// Deleting a manifest only unlinks it: the registry frees the blobs when
// its own garbage collection runs (`registry garbage-collect`, offline).
package registry
