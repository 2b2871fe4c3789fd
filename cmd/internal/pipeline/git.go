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
	fs.StringVar(&c.GitCredentialsFile, "git-credentials", c.GitCredentialsFile, "file of HTTPS tokens and SSH deploy keys of private repositories, per host or repository, readable by its owner only (chmod 600); see README 'Private repositories'")
}

// gitCredentials loads the credentials of Config.GitCredentialsFile; none
// when it is unset.
func (c *Config) gitCredentials() (*gitmirror.Credentials, error) {
	if c.GitCredentialsFile == "" {
		return nil, nil
	}
	return gitmirror.LoadCredentials(c.GitCredentialsFile)
}

// newMirror returns a git mirror in dir bounded by the configured timeout
// and authenticating with the configured credentials.
func (c *Config) newMirror(dir string) (*gitmirror.Mirror, error) {
	creds, err := c.gitCredentials()
	if err != nil {
		return nil, err
	}
	return gitmirror.New(dir, gitmirror.WithTimeout(c.GitTimeout), gitmirror.WithCredentials(creds))
}
