// Command ingest receives webhooks from git hosts, verifies and normalises
// them, and publishes them to NATS JetStream.
package main

import "github.com/slipway-dev/slipway/cmd/internal/pipeline"

func main() {
	m := &pipeline.Main{Name: "ingest", Bind: (*pipeline.Config).BindIngest, Run: pipeline.ListenAndRunIngest}
	m.Exec()
}
