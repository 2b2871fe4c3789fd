package target

import "strings"

// ProbePath returns the path a target's health check GETs for a
// service's health path (events.ServiceSpec.HealthPath): "/" for an empty
// one, a leading "/" added where it has none.
func ProbePath(healthPath string) string {
	if healthPath == "" {
		return "/"
	}
	if !strings.HasPrefix(healthPath, "/") {
		return "/" + healthPath
	}
	return healthPath
}
