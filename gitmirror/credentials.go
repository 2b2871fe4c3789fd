package gitmirror

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// DefaultTokenUser is the HTTPS user name sent with a token when its line
// names none (GitHub's; GitLab wants "oauth2", Bitbucket "x-token-auth").
const DefaultTokenUser = "x-access-token"

// Credential authenticates the fetches of a repository: an HTTPS token or
// an SSH deploy key with a pinned known_hosts file. Its fields other than
// Name are never printed.
type Credential struct {
	// Name says which credential this is and where it was configured, for
	// messages: "token of host git.example.com (/etc/slipway/git-credentials line 3)".
	Name string
	// User and Token are sent over HTTPS as basic authentication.
	User, Token string
	// SSHKey is the private key file, KnownHosts the known_hosts file the
	// host's key must be in. SSHURL is where the key is used: on a repo line
	// the repository's SSH URL, on a host line the base the clone URL's path
	// is appended to; empty: ssh://git@<host of the clone URL>.
	SSHKey, KnownHosts, SSHURL string
	// perRepo is set on a repo line's credential.
	perRepo bool
}

// isToken reports whether c is an HTTPS token (else a deploy key).
func (c *Credential) isToken() bool { return c.Token != "" }

// Credentials are the credentials of repositories and hosts; a
// repository's wins over its host's. The zero value (or nil) has none.
type Credentials struct {
	repos map[string]*Credential // by owner/name
	hosts map[string]*Credential // by lower-case host or host:port
}

// lookup returns the credential of repo: the repository's, else that of
// the host and port of its clone URL, else that of its host.
func (c *Credentials) lookup(repo events.Repo) *Credential {
	if c == nil {
		return nil
	}
	if cr, ok := c.repos[repo.FullName]; ok {
		return cr
	}
	host, port := urlHost(repo.CloneURL)
	if cr, ok := c.hosts[host+":"+port]; ok && port != "" {
		return cr
	}
	return c.hosts[host]
}

// Len is how many credentials c holds.
func (c *Credentials) Len() int {
	if c == nil {
		return 0
	}
	return len(c.repos) + len(c.hosts)
}

// LoadCredentials reads the credentials file path, which like an SSH
// private key must be a regular file only its owner may read or write
// (chmod 600). Each line is one credential (blank lines and lines starting
// with # are skipped):
//
//	host git.example.com token-file /etc/slipway/tokens/example [user oauth2]
//	host 127.0.0.1:3000  token <token> [user <name>]
//	repo acme/shop       ssh-key /etc/slipway/keys/shop known-hosts /etc/slipway/known_hosts [ssh-url ssh://git@git.example.com:2222/acme/shop.git]
//
// A token file holds the token alone and must be private too; a deploy
// key must be an unencrypted private key ssh-keygen reads, and the
// known_hosts file must hold at least one host key. Errors name the file,
// the line and what is wrong, never a token.
func LoadCredentials(path string) (*Credentials, error) {
	data, err := readPrivate("credentials file", path)
	if err != nil {
		return nil, err
	}
	return parseCredentials(path, bytes.NewReader(data))
}

// parseCredentials reads credential lines from r; name is the file's, for
// messages.
func parseCredentials(name string, r io.Reader) (*Credentials, error) {
	c := &Credentials{repos: map[string]*Credential{}, hosts: map[string]*Credential{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		where := fmt.Sprintf("%s line %d", name, n)
		if err := c.add(where, fields); err != nil {
			return nil, fmt.Errorf("git credentials %s: %w", where, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read git credentials %s: %w", name, err)
	}
	return c, nil
}

// add adds the credential of one line's fields.
func (c *Credentials) add(where string, fields []string) error {
	if len(fields) < 2 || (fields[0] != "repo" && fields[0] != "host") {
		return errors.New(`want "repo owner/name ..." or "host name[:port] ..."`)
	}
	kind, match := fields[0], fields[1]
	table := c.repos
	if kind == "host" {
		match, table = strings.ToLower(match), c.hosts
	} else if strings.Count(match, "/") < 1 {
		return fmt.Errorf("repository %q: want owner/name", match)
	}
	if _, dup := table[match]; dup {
		return fmt.Errorf("%s %s has a credential already", kind, match)
	}
	opts, err := options(fields[2:])
	if err != nil {
		return err
	}
	cr, err := credential(opts)
	if err != nil {
		return err
	}
	what := "token"
	if !cr.isToken() {
		what = "deploy key"
	}
	cr.perRepo = kind == "repo"
	cr.Name = fmt.Sprintf("%s of %s %s (%s)", what, kind, match, where)
	table[match] = cr
	return nil
}

// credentialKeys are the words a credential line may use.
var credentialKeys = []string{"token", "token-file", "user", "ssh-key", "known-hosts", "ssh-url"}

// options reads "key value" pairs, naming a bad key but never a value.
func options(words []string) (map[string]string, error) {
	opts := map[string]string{}
	for i := 0; i < len(words); i += 2 {
		key := words[i]
		known := false
		for _, k := range credentialKeys {
			known = known || k == key
		}
		switch {
		case !known:
			return nil, fmt.Errorf("unknown word %q: want one of %s", key, strings.Join(credentialKeys, ", "))
		case i+1 >= len(words):
			return nil, fmt.Errorf("%s has no value", key)
		case opts[key] != "":
			return nil, fmt.Errorf("%s given twice", key)
		}
		opts[key] = words[i+1]
	}
	return opts, nil
}

// credential builds and checks the credential of a line's options.
func credential(opts map[string]string) (*Credential, error) {
	tokens := 0
	for _, k := range []string{"token", "token-file"} {
		if opts[k] != "" {
			tokens++
		}
	}
	switch {
	case tokens > 1:
		return nil, errors.New("give token or token-file, not both")
	case tokens == 1 && (opts["ssh-key"] != "" || opts["known-hosts"] != "" || opts["ssh-url"] != ""):
		return nil, errors.New("a token line takes no ssh-key, known-hosts or ssh-url")
	case tokens == 1:
		return tokenCredential(opts)
	case opts["ssh-key"] != "":
		return keyCredential(opts)
	}
	return nil, errors.New("no credential: want token, token-file or ssh-key")
}

// tokenCredential checks an HTTPS token and its user name.
func tokenCredential(opts map[string]string) (*Credential, error) {
	token := opts["token"]
	if f := opts["token-file"]; f != "" {
		data, err := readPrivate("token file", f)
		if err != nil {
			return nil, err
		}
		token = strings.TrimSpace(string(data))
		if token == "" {
			return nil, fmt.Errorf("token file %s is empty", f)
		}
	}
	if !printable(token) {
		return nil, errors.New("the token holds spaces or control characters")
	}
	user := opts["user"]
	if user == "" {
		user = DefaultTokenUser
	}
	if !printable(user) || strings.Contains(user, ":") {
		return nil, errors.New("the user name holds a colon, spaces or control characters")
	}
	return &Credential{User: user, Token: token}, nil
}

// keyCredential checks a deploy key and its known_hosts file with
// ssh-keygen.
func keyCredential(opts map[string]string) (*Credential, error) {
	cr := &Credential{SSHKey: opts["ssh-key"], KnownHosts: opts["known-hosts"], SSHURL: opts["ssh-url"]}
	switch {
	case opts["user"] != "":
		return nil, errors.New("user is for tokens; an SSH user goes in ssh-url")
	case cr.KnownHosts == "":
		return nil, errors.New("ssh-key without known-hosts: the host's key must be pinned")
	case cr.SSHURL != "" && !strings.HasPrefix(cr.SSHURL, "ssh://"):
		return nil, errors.New("ssh-url must start with ssh://")
	}
	if _, err := readPrivate("deploy key", cr.SSHKey); err != nil {
		return nil, err
	}
	if out, err := exec.Command("ssh-keygen", "-y", "-P", "", "-f", cr.SSHKey).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("deploy key %s is not an unencrypted private key ssh can read: %s", cr.SSHKey, lastLines(strings.TrimSpace(string(out)), 1))
	}
	if info, err := os.Stat(cr.KnownHosts); err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("known-hosts %s: not a readable regular file", cr.KnownHosts)
	}
	if err := exec.Command("ssh-keygen", "-l", "-f", cr.KnownHosts).Run(); err != nil {
		return nil, fmt.Errorf("known-hosts %s holds no host key", cr.KnownHosts)
	}
	return cr, nil
}

// readPrivate reads the file path, which must be a regular file no one but
// its owner may read or write.
func readPrivate(what, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	info, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", what, err)
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("%s %s: not a regular file", what, path)
	case info.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("%s %s has mode %04o: it must be accessible by its owner only (chmod 600 %s)", what, path, info.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	return data, nil
}

// printable reports whether s is non-empty visible ASCII: a token sent in
// a header must not smuggle a line break into it.
func printable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
