package registry

import (
	"fmt"
	"os"
	"strings"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
)

// Credential is what Slipway sends to one registry host: a user name and
// its password, or an identity token (a refresh token some credential
// helpers return). Its String never shows the secret.
type Credential struct {
	Username      string
	Password      string
	IdentityToken string
}

// IsZero reports whether c holds nothing to send.
func (c Credential) IsZero() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == ""
}

// String names the user only, so that a Credential printed by mistake
// shows no secret.
func (c Credential) String() string {
	if c.IsZero() {
		return "no credentials"
	}
	return c.Username + ":***"
}

// GoString is String, for %#v.
func (c Credential) GoString() string { return c.String() }

// MarshalJSON writes String, for a Credential logged as a value.
func (c Credential) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strings.ReplaceAll(c.String(), `"`, `'`) + `"`), nil
}

// Credentials finds the credential of a registry host: a per-host entry
// (Add) first, then a Docker config file (its auths, credHelpers and
// credsStore, calling the docker-credential-* helpers it names).
type Credentials struct {
	hosts map[string]Credential
	file  *configfile.ConfigFile
}

// NewCredentials returns an empty Credentials.
func NewCredentials() *Credentials {
	return &Credentials{hosts: map[string]Credential{}}
}

// Add sets the credential of host ("registry.example.com:5443").
func (c *Credentials) Add(host string, cred Credential) {
	c.hosts[normalizeHost(host)] = cred
}

// LoadDockerConfig reads a Docker config.json for the hosts Add does not
// name. A file that cannot be read or parsed is an error naming the file.
func (c *Credentials) LoadDockerConfig(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("registry config: %w", err)
	}
	defer f.Close()
	cf := configfile.New(path)
	if err := cf.LoadFromReader(f); err != nil {
		// The decoder's message may quote the file: name the file only.
		return fmt.Errorf("registry config %s: not a Docker config.json (invalid JSON, or an auth entry that is not base64 user:password)", path)
	}
	c.file = cf
	return nil
}

// Lookup returns the credential of host; ok is false when none is
// configured. An error is a credential helper that failed; it names the
// helper and the host, never a secret.
func (c *Credentials) Lookup(host string) (cred Credential, ok bool, err error) {
	if c == nil {
		return Credential{}, false, nil
	}
	host = normalizeHost(host)
	if cred, ok := c.hosts[host]; ok {
		return cred, true, nil
	}
	if c.file == nil {
		return Credential{}, false, nil
	}
	key := host
	if key == "docker.io" || key == "registry-1.docker.io" || key == "index.docker.io" {
		key = "https://index.docker.io/v1/" // the key Docker writes for Docker Hub
	}
	ac, err := c.file.GetAuthConfig(key)
	if err != nil {
		return Credential{}, false, fmt.Errorf("registry credentials for %s: %s", host, helperProblem(c.file, host, err))
	}
	cred = fromAuthConfig(ac)
	return cred, !cred.IsZero(), nil
}

// helperProblem describes a failed lookup by the helper that failed and a
// bounded excerpt of its message (a helper prints no secret on failure).
func helperProblem(cf *configfile.ConfigFile, host string, err error) string {
	helper := cf.CredentialHelpers[host]
	if helper == "" {
		helper = cf.CredentialsStore
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if helper == "" {
		return msg
	}
	return "credential helper docker-credential-" + helper + ": " + msg
}

func fromAuthConfig(ac types.AuthConfig) Credential {
	return Credential{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken}
}

// normalizeHost strips a scheme and a path from a config key or host name
// ("https://registry.example.com/v1/" → "registry.example.com").
func normalizeHost(h string) string {
	h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	return strings.ToLower(h)
}
