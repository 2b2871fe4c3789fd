package pipeline

import (
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror"
	"github.com/slipway-dev/slipway/workflows/build"
)

// Planning is the git mirror and the build planner of a process: `slipway
// up` gives its builder and its deployer the same one, so that a commit's
// slipway.yaml is read once whichever of a push, a followed branch or a pull
// request plans it.
type Planning struct {
	Mirror  *gitmirror.Mirror
	Planner *build.Planner
}

// NewPlanning opens a git mirror in dir and a planner reading through it
// that publishes on c with the CloudEvents source.
func NewPlanning(cfg *Config, c *Conn, dir, source string) (*Planning, error) {
	mirror, err := cfg.newMirror(dir)
	if err != nil {
		return nil, err
	}
	return &Planning{Mirror: mirror, Planner: newPlanner(cfg, c, mirror, source)}, nil
}

// newPlanner returns a planner reading through mirror that publishes on c
// with the CloudEvents source.
func newPlanner(cfg *Config, c *Conn, mirror *gitmirror.Mirror, source string) *build.Planner {
	return &build.Planner{Source: mirror, Publisher: natsjs.NewPublisher(c.JS, source), Repos: cfg.knownRepos()}
}

// builderPlanning is the planning of a builder: the mirror in -mirror-dir.
func builderPlanning(cfg *Config, c *Conn) (*Planning, error) {
	return NewPlanning(cfg, c, cfg.mirrorDir(), builderSource)
}

// builderSource is the CloudEvents source of what the builder publishes.
const builderSource = "/slipway/builder"
