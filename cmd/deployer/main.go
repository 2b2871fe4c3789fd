// Command deployer consumes commit-built events and deploys commits to their
// environments on the Docker Engine, serving each environment through its
// proxy.
package main

import "github.com/slipway-dev/slipway/cmd/internal/pipeline"

func main() {
	m := &pipeline.Main{Name: "deployer", Bind: (*pipeline.Config).BindDeployer, Run: pipeline.RunDeployer}
	m.Exec()
}
