// Package registry is how Slipway reaches its registry, and a small client
// of the OCI Distribution API, enough for Slipway's clean-up: list the tags
// of a repository, resolve a tag to its manifest digest, delete a manifest,
// and copy a manifest to a new tag.
//
// Access holds the one rule deciding plain HTTP (a loopback registry
// without a configured CA; every other registry is HTTPS), the CA trusted
// beyond the system's, and Credentials: per host, or from a Docker
// config.json with its credential helpers. The builder (BuildKit's session
// auth provider), the Docker pull and the Client all use it. The Client
// answers a 401 challenge with HTTP basic or a bearer token from the
// registry's token service.
//
// Guarantees: a credential never reaches an error, a log or String (a
// Credential prints as "user:***"); a registry answering 401 or 403 is a
// *RefusedError naming the host (errors.Is ErrRefused); a certificate no
// trusted CA signed is an *UntrustedError naming the host.
//
// Deleting a manifest only unlinks it: the registry frees the blobs when
// its own garbage collection runs (`registry garbage-collect`, offline).
package registry
