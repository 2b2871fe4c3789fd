// Package manifest reads slipway.yaml, the file at the root of a user's
// monorepo that lists the services Slipway builds and deploys.
//
// Parse is pure: it takes the bytes of the file and returns either a Manifest
// whose every service is valid, or an error listing every problem at once,
// each naming the file, the line and the field path:
//
//	slipway.yaml:9: services[1].port: must be between 1 and 65535
//
// Decoding is strict: unknown fields, duplicate fields, wrong types and more
// than one YAML document are errors. Defaults are applied (dockerfile
// "Dockerfile", health "/") and paths are cleaned, so two spellings of the
// same manifest yield the same services.
//
// Validate checks a Manifest against the tree of the commit it came from: each
// build context is a directory and each Dockerfile a regular file, neither
// reached through a symbolic link.
//
// Environments (environments.go) say what moves each environment: a branch,
// a pin file (ParsePin, FormatPin) or pull requests (previews), and what it
// sets on the services (env values, replicas, hosts, keep). A manifest
// without them gets DefaultEnvironments. Services may declare deployment
// tasks (tasks.go).
//
// Every error the package returns is events.Permanent: the same bytes can
// never become valid by retrying. The package never reads the network or the
// file system on its own; it imports only events and the YAML decoder.
package manifest
