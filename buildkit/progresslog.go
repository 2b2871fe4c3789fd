package buildkit

import "github.com/moby/buildkit/client"

// step hands a step's status to the build's log, when it has one.
func (p *progress) step(name, status string) {
	if p.sink != nil {
		p.sink.Step(name, status)
	}
}

// stepStatus is the status of a completed vertex.
func stepStatus(u *client.Vertex) string {
	switch {
	case u.Error != "":
		return "error"
	case u.Cached:
		return "cached"
	default:
		return "done"
	}
}
