package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// RecipientKey is the key of the secrets bucket holding the recipient
// ("age1…") values are sealed for: the public half of the deployer's key.
const RecipientKey = "recipient"

// ErrNoRecipient is returned by SecretStore.Recipient before a deployer
// published its recipient.
var ErrNoRecipient = errors.New("no deployer published its secrets recipient yet (start slipway up or a deployer once)")

// ErrSecretNotFound is wrapped by SecretStore.Get and Delete for a secret
// never set (or removed).
var ErrSecretNotFound = errors.New("no such secret")

// SealedSecret is the record of one secret: its sealed value and who set
// it when. Only the deployer's key opens Sealed.
type SealedSecret struct {
	Name      string    `json:"name"`
	Sealed    []byte    `json:"sealed"`
	Recipient string    `json:"recipient"`
	SetBy     string    `json:"set_by"`
	SetAt     time.Time `json:"set_at"`
	// Version is the record's KV revision, set when read.
	Version uint64 `json:"-"`
}

// Opener opens a value sealed for its key (secrets.Key).
type Opener interface {
	Open(sealed []byte) ([]byte, error)
	Path() string
}

// SecretStore keeps the secrets of each environment in a KV bucket
// (natsjs.BucketSecrets), sealed, keyed by SecretKey. Operators' commands
// write it with the recipient alone; the deployer opens what it reads with
// Key.
type SecretStore struct {
	kv jetstream.KeyValue
	// Key opens sealed values; nil in an operator's command, which never
	// opens one.
	Key Opener
}

var _ deploy.Secrets = (*SecretStore)(nil)

// NewSecretStore returns the store on kv, opening values with key (nil
// for a store that only seals).
func NewSecretStore(kv jetstream.KeyValue, key Opener) *SecretStore {
	return &SecretStore{kv: kv, Key: key}
}

// SecretKey is the key of secret name of env of repo:
// "secret.<repo>.<env>.<name>", each part encoded by events.KeyPart.
func SecretKey(repo, env, name string) string {
	return "secret." + events.EnvKey(repo, env) + "." + events.KeyPart(name)
}

// Recipient returns the published recipient, or ErrNoRecipient.
func (s *SecretStore) Recipient(ctx context.Context) (string, error) {
	e, err := s.kv.Get(ctx, RecipientKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", ErrNoRecipient
	}
	if err != nil {
		return "", fmt.Errorf("read the secrets recipient: %w", err)
	}
	return string(e.Value()), nil
}

// PublishRecipient publishes recipient unless one is published already; it
// returns the published one, which differs from recipient when another
// key published first (values sealed for it stay sealed for it).
func (s *SecretStore) PublishRecipient(ctx context.Context, recipient string) (string, error) {
	_, err := s.kv.Create(ctx, RecipientKey, []byte(recipient))
	if err == nil {
		return recipient, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return "", fmt.Errorf("publish the secrets recipient: %w", err)
	}
	return s.Recipient(ctx)
}

// Put records sealed as secret name of env of repo and returns its
// version.
func (s *SecretStore) Put(ctx context.Context, repo, env string, sec SealedSecret) (uint64, error) {
	b, err := json.Marshal(sec)
	if err != nil {
		return 0, fmt.Errorf("record secret %s: %w", sec.Name, err)
	}
	rev, err := s.kv.Put(ctx, SecretKey(repo, env, sec.Name), b)
	if err != nil {
		return 0, fmt.Errorf("record secret %s of %s: %w", sec.Name, events.EnvID{Repo: repo, Env: env}, err)
	}
	return rev, nil
}

// Get returns the record of secret name of env of repo; an error wrapping
// ErrSecretNotFound when there is none.
func (s *SecretStore) Get(ctx context.Context, repo, env, name string) (SealedSecret, error) {
	id := events.EnvID{Repo: repo, Env: env}
	e, err := s.kv.Get(ctx, SecretKey(repo, env, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return SealedSecret{}, fmt.Errorf("secret %s of %s: %w", name, id, ErrSecretNotFound)
	}
	if err != nil {
		return SealedSecret{}, fmt.Errorf("read secret %s of %s: %w", name, id, err)
	}
	var sec SealedSecret
	if err := json.Unmarshal(e.Value(), &sec); err != nil {
		return SealedSecret{}, fmt.Errorf("read secret %s of %s: damaged record", name, id)
	}
	sec.Version = e.Revision()
	return sec, nil
}

// List returns the records of the secrets of env of repo, sorted by name.
// Their sealed values are left out.
func (s *SecretStore) List(ctx context.Context, repo, env string) ([]SealedSecret, error) {
	id := events.EnvID{Repo: repo, Env: env}
	lister, err := s.kv.ListKeysFiltered(ctx, "secret."+id.Key()+".*")
	if err != nil {
		return nil, fmt.Errorf("list secrets of %s: %w", id, err)
	}
	var out []SealedSecret
	for k := range lister.Keys() {
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("list secrets of %s: %w", id, err)
		}
		var sec SealedSecret
		if json.Unmarshal(e.Value(), &sec) != nil {
			continue
		}
		sec.Sealed, sec.Version = nil, e.Revision()
		out = append(out, sec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Versions returns the versions of the secrets set on env of repo, by
// name: what `slipway diff` and the release plan compare. No value is
// read.
func (s *SecretStore) Versions(ctx context.Context, repo, env string) (map[string]uint64, error) {
	list, err := s.List(ctx, repo, env)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(list))
	for _, sec := range list {
		out[sec.Name] = sec.Version
	}
	return out, nil
}

// Delete removes secret name of env of repo, with its history; an error
// wrapping ErrSecretNotFound when there is none.
func (s *SecretStore) Delete(ctx context.Context, repo, env, name string) error {
	if _, err := s.Get(ctx, repo, env, name); err != nil {
		return err
	}
	if err := s.kv.Purge(ctx, SecretKey(repo, env, name)); err != nil {
		return fmt.Errorf("remove secret %s of %s: %w", name, events.EnvID{Repo: repo, Env: env}, err)
	}
	return nil
}

// Open implements deploy.Secrets: it reads each named secret from the
// first of envs that has it and opens it with Key. Every secret missing is
// named in one permanent error; so is every secret Key cannot open, with
// the key file. No error holds a value.
func (s *SecretStore) Open(ctx context.Context, repo string, envs []string, names []string) ([]deploy.Secret, error) {
	if len(envs) == 0 {
		return nil, events.Permanent(fmt.Errorf("secrets %v of %s: no environment named", names, repo))
	}
	var out []deploy.Secret
	var missing, unopened []string
	var why error
	for _, name := range names {
		sec, err := s.first(ctx, repo, envs, name)
		if errors.Is(err, ErrSecretNotFound) {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			return nil, err // NATS unreachable: retryable
		}
		if s.Key == nil {
			return nil, events.Permanent(fmt.Errorf("secret %s of %s: this deployer has no secrets key", name, scope(repo, envs)))
		}
		v, err := s.Key.Open(sec.Sealed)
		if err == nil && strings.IndexByte(string(v), 0) >= 0 {
			err = errors.New("its value holds a NUL byte")
		}
		if err != nil {
			unopened, why = append(unopened, name), err
			continue
		}
		out = append(out, deploy.NewSecret(name, sec.Version, string(v)))
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("secret %s of %s is not set (slipway secret set -repo %s %s NAME)",
			strings.Join(missing, ", "), scope(repo, envs), repo, envs[0]))
	}
	if len(unopened) > 0 {
		errs = append(errs, fmt.Errorf("secret %s of %s cannot be opened: %w", strings.Join(unopened, ", "), scope(repo, envs), why))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, events.Permanent(err)
	}
	return out, nil
}

// first returns secret name of the first of envs that has it.
func (s *SecretStore) first(ctx context.Context, repo string, envs []string, name string) (SealedSecret, error) {
	err := fmt.Errorf("secret %s of %s: %w", name, scope(repo, envs), ErrSecretNotFound)
	for _, env := range envs {
		sec, gerr := s.Get(ctx, repo, env, name)
		if !errors.Is(gerr, ErrSecretNotFound) {
			return sec, gerr
		}
	}
	return SealedSecret{}, err
}

// scope names envs of repo in errors: "staging of acme/shop", "pr-42 (or
// pr) of acme/shop".
func scope(repo string, envs []string) string {
	s := events.EnvID{Repo: repo, Env: envs[0]}.String()
	if len(envs) > 1 {
		s = strings.Replace(s, envs[0], envs[0]+" (or "+strings.Join(envs[1:], ", ")+")", 1)
	}
	return s
}
