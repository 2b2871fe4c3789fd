package build

import "github.com/slipway-dev/slipway/events"

// ServicePaths returns the absolute build context and Dockerfile of service
// s in the checkout dir, refused when either leads out of it: what a check
// of the service builds (workflows/checks).
func ServicePaths(dir string, s events.ServiceSpec) (contextDir, dockerfile string, err error) {
	return resolve(dir, s)
}
