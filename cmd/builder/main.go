// Command builder consumes push events and builds every service of a commit
// with BuildKit. Run any number of them against one NATS: they share the work.
package main

import "github.com/slipway-dev/slipway/cmd/internal/pipeline"

func main() {
	m := &pipeline.Main{Name: "builder", Bind: (*pipeline.Config).BindBuilder, Run: pipeline.RunBuilder}
	m.Exec()
}
