package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// Role is what a token may do.
type Role string

// The roles of tokens.
const (
	// RoleRead reads every view.
	RoleRead Role = "read"
	// RoleDeploy reads and acts: rollback, replay, dead-letter retry.
	RoleDeploy Role = "deploy"
)

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleRead, RoleDeploy:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want read or deploy", s)
}

// Can reports whether r may do what need requires.
func (r Role) Can(need Role) bool { return r == RoleDeploy || need == RoleRead && r == RoleRead }

// Token is the record of a token: its name, role and hash, never the token.
type Token struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Hash    string    `json:"sha256"`
	Created time.Time `json:"created"`
}

// tokenPrefix starts every token, so a leaked one is recognisable.
const tokenPrefix = "slw_"

// validName is what a token's name may be: it is a KV key and an actor.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ErrUnauthorized is returned for a token that is not (or no longer) valid.
var ErrUnauthorized = errors.New("unknown or revoked token")

// Tokens is the store of tokens, KV bucket natsjs.BucketTokens: each
// record twice, under n.<name> (names are unique) and h.<sha256> (a
// request's token is looked up by its hash, in time independent of the
// number of tokens).
type Tokens struct{ kv jetstream.KeyValue }

// OpenTokens opens the tokens bucket, which natsjs.Provision created.
func OpenTokens(ctx context.Context, js jetstream.JetStream) (*Tokens, error) {
	kv, err := js.KeyValue(ctx, natsjs.BucketTokens)
	if err != nil {
		return nil, fmt.Errorf("open tokens: %w", err)
	}
	return &Tokens{kv: kv}, nil
}

// Create makes a token named name with role and returns it: the only
// time it is seen, as only its hash is stored. A name in use is refused.
func (t *Tokens) Create(ctx context.Context, name string, role Role) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("token name %q: want letters, digits, '.', '_' or '-', at most 64", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	secret := tokenPrefix + hex.EncodeToString(b)
	rec, err := json.Marshal(Token{Name: name, Role: role, Hash: hash(secret), Created: time.Now().UTC()})
	if err != nil {
		return "", fmt.Errorf("encode token: %w", err)
	}
	if _, err := t.kv.Create(ctx, "n."+name, rec); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("token %q exists: revoke it first", name)
		}
		return "", fmt.Errorf("store token %s: %w", name, err)
	}
	if _, err := t.kv.Put(ctx, "h."+hash(secret), rec); err != nil {
		return "", errors.Join(fmt.Errorf("store token %s: %w", name, err), t.kv.Purge(ctx, "n."+name))
	}
	return secret, nil
}

// List returns every token's record, by name.
func (t *Tokens) List(ctx context.Context) ([]Token, error) {
	lister, err := t.kv.ListKeysFiltered(ctx, "n.>")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	var names []string
	for k := range lister.Keys() {
		names = append(names, k)
	}
	var out []Token
	for _, n := range names {
		tok, err := t.get(ctx, n)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Revoke removes the token named name.
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	tok, err := t.get(ctx, "n."+name)
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", name, err)
	}
	if err := t.kv.Purge(ctx, "h."+tok.Hash); err != nil {
		return fmt.Errorf("revoke token %q: %w", name, err)
	}
	if err := t.kv.Purge(ctx, "n."+name); err != nil {
		return fmt.Errorf("revoke token %q: %w", name, err)
	}
	return nil
}

// Verify returns the record of secret, looked up by its hash and the
// hashes compared again in constant time.
func (t *Tokens) Verify(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return Token{}, ErrUnauthorized
	}
	h := hash(secret)
	tok, err := t.get(ctx, "h."+h)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Token{}, ErrUnauthorized
	}
	if err != nil {
		return Token{}, err
	}
	if subtle.ConstantTimeCompare([]byte(h), []byte(tok.Hash)) != 1 {
		return Token{}, ErrUnauthorized
	}
	return tok, nil
}

func (t *Tokens) get(ctx context.Context, key string) (Token, error) {
	e, err := t.kv.Get(ctx, key)
	if err != nil {
		return Token{}, err
	}
	var tok Token
	if err := json.Unmarshal(e.Value(), &tok); err != nil {
		return Token{}, fmt.Errorf("decode token %s: %w", key, err)
	}
	return tok, nil
}

func hash(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}
