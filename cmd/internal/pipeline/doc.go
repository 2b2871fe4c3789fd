// Package pipeline wires Slipway's components for the binaries in cmd/: the
// configuration (flags with SLIPWAY_* environment fallbacks), the NATS
// connection, the consumer topology (topology.go: each durable consumer and
// the handler it feeds, declared once), and the three components (ingest, builder, deployer) as
// functions that run until their context ends and then drain. `slipway up`
// runs all three in one process with an embedded NATS server; cmd/ingest,
// cmd/builder and cmd/deployer run one each against an external NATS URL.
package pipeline
