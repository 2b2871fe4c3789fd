// Package sample is the demo's user: a monorepo with two services (web and
// api) in a real git repository served over HTTP, and the signed GitHub push
// webhook its host would send.
package sample

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/slipway-dev/slipway/gitserver"
)

//go:embed all:shop
var shop embed.FS

// RepoName is the sample repository's full name.
const RepoName = "acme/shop"

// Sample is the sample monorepo on its own git host.
type Sample struct {
	Server *gitserver.Server
	Repo   *gitserver.Repo
	Secret string
	// Name is the repository's full name, RepoName unless NewNamed chose
	// another.
	Name string
	head string
}

// New creates the sample repository under dir, served over HTTP with opts
// (gitserver.WithBasicAuth makes it a private repository), with the
// sample's files written but not committed.
func New(ctx context.Context, dir, secret string, opts ...gitserver.Option) (*Sample, error) {
	return NewNamed(ctx, dir, secret, RepoName, opts...)
}

// NewNamed is New for a copy of the sample called name ("owner/name"): a
// second repository with the same services.
func NewNamed(ctx context.Context, dir, secret, name string, opts ...gitserver.Option) (*Sample, error) {
	srv, err := gitserver.Start(filepath.Join(dir, "host"), "127.0.0.1:0", opts...)
	if err != nil {
		return nil, err
	}
	repo, err := gitserver.NewRepo(ctx, srv.Root, filepath.Join(dir, "work"), name)
	if err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	s := &Sample{Server: srv, Repo: repo, Secret: secret, Name: name, head: zeroSHA}
	if err := s.writeShop(); err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	return s, nil
}

const zeroSHA = "0000000000000000000000000000000000000000"

func (s *Sample) writeShop() error {
	return fs.WalkDir(shop, "shop", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := shop.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("shop", path)
		return s.Repo.WriteFile(rel, string(b))
	})
}

// Close stops the git host.
func (s *Sample) Close() error { return s.Server.Close() }

// Commit commits and pushes the working tree; the returned Push describes
// the push to send as a webhook.
func (s *Sample) Commit(ctx context.Context, msg string) (Push, error) {
	sha, err := s.Repo.CommitAndPush(ctx, msg)
	if err != nil {
		return Push{}, err
	}
	p := Push{Repo: s.Name, Before: s.head, After: sha, Message: msg, CloneURL: s.Server.URL(s.Name)}
	s.head = sha
	return p, nil
}

// WriteFile changes a file of the working tree.
func (s *Sample) WriteFile(path, content string) error { return s.Repo.WriteFile(path, content) }

// Push is one push to main of the sample repository.
type Push struct {
	// Repo is the repository's full name; empty means RepoName.
	Repo                             string
	Before, After, Message, CloneURL string
}

// Payload is the GitHub push webhook body of the push.
func (p Push) Payload() []byte {
	full := p.Repo
	if full == "" {
		full = RepoName
	}
	owner, name, _ := strings.Cut(full, "/")
	b, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": p.Before, "after": p.After,
		"created": p.Before == zeroSHA, "deleted": false, "forced": false,
		"repository": map[string]any{
			"full_name": full, "name": name, "clone_url": p.CloneURL,
			"default_branch": "main", "owner": map[string]any{"login": owner, "name": owner},
		},
		"pusher":      map[string]any{"name": "ada", "email": "ada@acme.invalid"},
		"head_commit": map[string]any{"id": p.After, "message": p.Message},
		"commits":     []any{map[string]any{"id": p.After, "message": p.Message}},
	})
	return b
}

// Send delivers the push webhook to a GitHub receiver at url, signed with
// secret, and returns the response status.
func (p Push) Send(ctx context.Context, url, secret, deliveryID string) (int, []byte, error) {
	body := p.Payload()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if deliveryID == "" {
		deliveryID = uuid.NewString()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", deliveryID)
	req.Header.Set("X-Hub-Signature-256", Sign(body, secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("send webhook: %w", err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, out.Bytes(), nil
}

// Sign returns GitHub's X-Hub-Signature-256 value of body.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
