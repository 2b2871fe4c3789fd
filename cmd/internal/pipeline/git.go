package pipeline

import (
	"flag"

	"github.com/slipway-dev/slipway/gitmirror"
)

// bindGit binds the settings of the git mirrors, which the builder and the
// deployer both keep; `slipway up` binds them once.
func (c *Config) bindGit(fs *flag.FlagSet) {
	if fs.Lookup("git-timeout") != nil {
		return
	}
	fs.DurationVar(&c.GitTimeout, "git-timeout", c.GitTimeout, "bound of one git fetch or ls-remote; a fetch past it is retried later (raise it for very large repositories)")
}

// newMirror returns a git mirror in dir bounded by the configured timeout.
func (c *Config) newMirror(dir string) (*gitmirror.Mirror, error) {
	return gitmirror.New(dir, gitmirror.WithTimeout(c.GitTimeout))
}
