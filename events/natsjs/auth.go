package natsjs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Role is what a Slipway process may do on the embedded NATS server; each
// role has a key of its own and the permissions of RolePermissions.
type Role string

// The roles of the embedded server.
const (
	// RoleAdmin provisions the stream, consumers and buckets and runs the
	// operator's commands: everything.
	RoleAdmin Role = "admin"
	// RoleIngest publishes the events received from git hosts.
	RoleIngest Role = "ingest"
	// RoleBuilder builds: it never requests a deploy.
	RoleBuilder Role = "builder"
	// RoleDeployer deploys, releases and runs previews.
	RoleDeployer Role = "deployer"
)

// Roles returns every role, admin first.
func Roles() []Role { return []Role{RoleAdmin, RoleIngest, RoleBuilder, RoleDeployer} }

// KeysDirName is the directory of the role keys inside the data directory.
const KeysDirName = "auth"

// Keys are the NKey seeds of the roles, one file <role>.nk each in Dir.
type Keys struct {
	Dir    string
	public map[Role]string
}

// EnsureKeys returns the keys in dir, creating dir (0700) and the seed of
// every role that has none (0600). A seed file group or others may read is
// refused, never used.
func EnsureKeys(dir string) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nats keys: %w", err)
	}
	k := &Keys{Dir: dir, public: map[Role]string{}}
	for _, r := range Roles() {
		pub, err := ensureSeed(k.SeedFile(r))
		if err != nil {
			return nil, err
		}
		k.public[r] = pub
	}
	return k, nil
}

// SeedFile is the path of role's seed.
func (k *Keys) SeedFile(r Role) string { return filepath.Join(k.Dir, string(r)+".nk") }

// Option authenticates a connection as role.
func (k *Keys) Option(r Role) (nats.Option, error) { return SeedOption(k.SeedFile(r)) }

// SeedOption authenticates with the NKey seed in path, refused when group or
// others may read it. Errors name the file, never its content.
func SeedOption(path string) (nats.Option, error) {
	if err := CheckPrivate(path); err != nil {
		return nil, err
	}
	opt, err := nats.NkeyOptionFromSeed(path)
	if err != nil {
		return nil, fmt.Errorf("nats nkey seed %s: not a user seed", path)
	}
	return opt, nil
}

// CheckPrivate refuses a secret file that is missing, not a regular file,
// or readable by group or others.
func CheckPrivate(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("secret file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("secret file %s: not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("secret file %s: mode %04o lets group or others read it; chmod 600 it", path, perm)
	}
	return nil
}

// ensureSeed returns the public key of the seed in path, writing a new
// seed there first when there is none.
func ensureSeed(path string) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := writeSeed(path); err != nil {
			return "", err
		}
	}
	if err := CheckPrivate(path); err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("nats key: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(data)
	if err != nil {
		return "", fmt.Errorf("nats key %s: not a user seed", path)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("nats key %s: not a user seed", path)
	}
	return pub, nil
}

// writeSeed writes a new user seed to path, readable by its owner only;
// an existing file is never overwritten.
func writeSeed(path string) error {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("nats key: %w", err)
	}
	defer kp.Wipe()
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("nats key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("nats key: %w", err)
	}
	_, err = f.Write(append(seed, '\n'))
	return errors.Join(err, f.Close())
}

// users returns the server's users: one per role, with its permissions on
// a stream whose durable consumers are consumers.
func (k *Keys) users(consumers []Consumer) []*server.NkeyUser {
	var out []*server.NkeyUser
	for _, r := range Roles() {
		out = append(out, &server.NkeyUser{Nkey: k.public[r], Permissions: RolePermissions(r, consumers)})
	}
	return out
}
