package pipeline

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/rs/zerolog"
)

// secretFlags are the flags whose value is a secret: given on a command
// line, any local user reads them in /proc/<pid>/cmdline.
var secretFlags = []string{"repo-secret", "fallback-secret"}

// LoadRepoSecretsFile adds the secrets of Config.RepoSecretsFile, if set, to
// Config.RepoSecrets. The file holds one "owner/name=secret" per line
// (spaces around either are ignored; blank lines and lines starting with #
// are skipped) and, like ssh's private
// keys, must be a regular file no one but its owner may read or write
// (chmod 600). Errors name the file and line, never a secret.
func (c *Config) LoadRepoSecretsFile() error {
	if c.RepoSecretsFile == "" {
		return nil
	}
	f, err := os.Open(c.RepoSecretsFile)
	if err != nil {
		return fmt.Errorf("repo secrets file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	switch {
	case err != nil:
		return fmt.Errorf("repo secrets file: %w", err)
	case !info.Mode().IsRegular():
		return fmt.Errorf("repo secrets file %s: not a regular file", c.RepoSecretsFile)
	case info.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("repo secrets file %s has mode %04o: it must be accessible by its owner only (chmod 600 %s)", c.RepoSecretsFile, info.Mode().Perm(), c.RepoSecretsFile)
	}
	if c.RepoSecrets == nil {
		c.RepoSecrets = RepoSecrets{}
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		repo, secret, ok := strings.Cut(line, "=")
		repo, secret = strings.TrimSpace(repo), strings.TrimSpace(secret)
		if !ok || repo == "" || secret == "" {
			return fmt.Errorf("repo secrets file %s line %d: want owner/name=secret", c.RepoSecretsFile, n)
		}
		c.RepoSecrets[repo] = append(c.RepoSecrets[repo], []byte(secret))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read repo secrets file %s: %w", c.RepoSecretsFile, err)
	}
	return nil
}

// WarnSecretFlags logs a warning, naming the flag and never its value, for
// each secret given as a command-line flag in args.
func WarnSecretFlags(log *zerolog.Logger, args []string) {
	for _, name := range SecretFlagsIn(args) {
		log.Warn().Str("flag", "-"+name).
			Msg("secret given on the command line, readable by any local user in /proc/<pid>/cmdline: use -repo-secrets-file or the SLIPWAY_* environment")
	}
}

// SecretFlagsIn returns the names of the secret flags set in args, in
// order, stopping at "--".
func SecretFlagsIn(args []string) []string {
	var found []string
	for _, arg := range args {
		if arg == "--" {
			break
		}
		name, ok := strings.CutPrefix(arg, "-")
		if !ok {
			continue
		}
		name = strings.TrimPrefix(name, "-")
		name, _, _ = strings.Cut(name, "=")
		for _, secret := range secretFlags {
			if name == secret {
				found = append(found, name)
			}
		}
	}
	return found
}
