// Package workflows holds Slipway's use cases as plain Go: what happens when a
// push arrives (build), and when a commit is built (deploy). Sub-packages
// declare the small interfaces they consume; adapters named after their
// dependency (buildkit, docker, gitmirror, natsjs) implement them. Nothing here
// imports NATS, watermill, BuildKit or Docker.
package workflows
