package registry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrNotFound is returned for a repository, tag or manifest the registry
// does not have.
var ErrNotFound = errors.New("not found in the registry")

// manifestTypes are the manifest media types Slipway's images use.
var manifestTypes = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// Client talks to one registry.
type Client struct {
	host string
	base string
	http *http.Client
	auth *authorizer
}

// New returns a client of the registry at host ("localhost:5000",
// "registry.example.com"), over plain HTTP or HTTPS as a.PlainHTTP says,
// answering its challenges with a's credential for host (HTTP basic, or a
// bearer token from the registry's token service).
func New(host string, a Access) (*Client, error) {
	scheme := "https"
	if a.PlainHTTP(host) {
		scheme = "http"
	}
	tc, err := a.TLSConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	hc := &http.Client{Timeout: 30 * time.Second, Transport: tr}
	cred, ok, err := a.Credentials.Lookup(host)
	if err != nil {
		return nil, err
	}
	return &Client{host: host, base: scheme + "://" + host, http: hc,
		auth: &authorizer{host: host, cred: cred, has: ok, http: hc}}, nil
}

// Tags returns every tag of repository name, following pagination.
func (c *Client) Tags(ctx context.Context, name string) ([]string, error) {
	next := "/v2/" + name + "/tags/list?n=1000"
	var tags []string
	for next != "" {
		resp, err := c.do(ctx, http.MethodGet, next, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("tags of %s: %w", name, err)
		}
		var page struct {
			Tags []string `json:"tags"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("tags of %s: %w", name, err)
		}
		tags = append(tags, page.Tags...)
		next = nextLink(resp.Header.Get("Link"))
	}
	return tags, nil
}

// nextLink returns the path of a Link: <...>; rel="next" header, or "".
func nextLink(h string) string {
	if !strings.Contains(h, `rel="next"`) {
		return ""
	}
	start, end := strings.Index(h, "<"), strings.Index(h, ">")
	if start < 0 || end < start {
		return ""
	}
	u, err := url.Parse(h[start+1 : end])
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

// Digest returns the manifest digest ref (a tag or a digest) of name
// resolves to.
func (c *Client) Digest(ctx context.Context, name, ref string) (string, error) {
	resp, err := c.do(ctx, http.MethodHead, "/v2/"+name+"/manifests/"+ref, nil, accept())
	if err != nil {
		return "", fmt.Errorf("digest of %s:%s: %w", name, ref, err)
	}
	resp.Body.Close()
	d := resp.Header.Get("Docker-Content-Digest")
	if d == "" {
		return "", fmt.Errorf("digest of %s:%s: the registry sent none", name, ref)
	}
	return d, nil
}

// Delete deletes the manifest digest of name, and so every tag naming it.
// A manifest already gone is not an error.
func (c *Client) Delete(ctx context.Context, name, digest string) error {
	resp, err := c.do(ctx, http.MethodDelete, "/v2/"+name+"/manifests/"+digest, nil, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s@%s: %w", name, digest, err)
	}
	resp.Body.Close()
	return nil
}

// Tag makes tag name the manifest from (a tag or digest) names.
func (c *Client) Tag(ctx context.Context, name, from, tag string) error {
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+name+"/manifests/"+from, nil, accept())
	if err != nil {
		return fmt.Errorf("tag %s:%s: %w", name, tag, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("tag %s:%s: %w", name, tag, err)
	}
	h := http.Header{"Content-Type": {resp.Header.Get("Content-Type")}}
	resp, err = c.do(ctx, http.MethodPut, "/v2/"+name+"/manifests/"+tag, body, h)
	if err != nil {
		return fmt.Errorf("tag %s:%s: %w", name, tag, err)
	}
	resp.Body.Close()
	return nil
}

func accept() http.Header {
	return http.Header{"Accept": {strings.Join(manifestTypes, ", ")}}
}

// do sends one request and returns a 2xx response; 404 is ErrNotFound, a
// refused credential a *RefusedError. A 401 is answered once with the
// authorization its challenge asks for.
func (c *Client) do(ctx context.Context, method, path string, body []byte, h http.Header) (*http.Response, error) {
	resp, err := c.send(ctx, method, path, body, h, c.auth.cached())
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		challenge := resp.Header.Get("WWW-Authenticate")
		resp.Body.Close()
		authz, aerr := c.auth.answer(ctx, challenge)
		if aerr != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, aerr)
		}
		resp, err = c.send(ctx, method, path, body, h, authz)
	}
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		return nil, fmt.Errorf("%s %s: %w", method, path, ErrNotFound)
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("%s %s: %w", method, path, &RefusedError{Host: c.host, Sent: c.auth.has, Err: errors.New(resp.Status)})
	}
	return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
}

// send sends one request with the Authorization header authz, if any.
func (c *Client) send(ctx context.Context, method, path string, body []byte, h http.Header, authz string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	return c.http.Do(req)
}

// transportError names the host of a certificate no trusted CA signed.
func (c *Client) transportError(err error) error {
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &verify) {
		return &UntrustedError{Host: c.host, Err: err}
	}
	return err
}
