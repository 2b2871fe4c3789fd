package registrytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// MustPushManifest uploads a minimal OCI image (an empty config and one
// layer holding content) as repo:tag, authenticated as User, and returns
// its manifest digest. It talks to the registry directly, with no Slipway
// code, so a test of Slipway's client has something to find.
func (p *Private) MustPushManifest(tb testing.TB, repo, tag, content string) string {
	tb.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte(content)
	p.mustBlob(tb, repo, config)
	p.mustBlob(tb, repo, layer)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor("application/vnd.oci.image.config.v1+json", config),
		"layers":        []any{descriptor("application/vnd.oci.image.layer.v1.tar", layer)},
	})
	h := p.mustDo(tb, http.MethodPut, "https://"+p.Host+"/v2/"+repo+"/manifests/"+tag, repo, manifest,
		"application/vnd.oci.image.manifest.v1+json", http.StatusCreated)
	return h.Get("Docker-Content-Digest")
}

func descriptor(mediaType string, b []byte) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": digestOf(b), "size": len(b)}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// mustBlob uploads b in one monolithic PUT.
func (p *Private) mustBlob(tb testing.TB, repo string, b []byte) {
	tb.Helper()
	h := p.mustDo(tb, http.MethodPost, "https://"+p.Host+"/v2/"+repo+"/blobs/uploads/", repo, nil, "", http.StatusAccepted)
	loc := h.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = "https://" + p.Host + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	p.mustDo(tb, http.MethodPut, loc+sep+"digest="+digestOf(b), repo, b, "application/octet-stream", http.StatusCreated)
}

// mustDo sends one request as User and returns the response's header.
func (p *Private) mustDo(tb testing.TB, method, url, repo string, body []byte, contentType string, want int) http.Header {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if p.tokens != nil {
		token, err := p.tokens.sign(p.User, []map[string]any{{"type": "repository", "name": repo, "actions": []string{"pull", "push", "delete"}}})
		if err != nil {
			tb.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.SetBasicAuth(p.User, p.Password)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := p.client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: %s %s", method, url, resp.Status, msg)
	}
	return resp.Header
}

// client trusts the registry's CA.
func (p *Private) client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: p.ca.ClientConfig()}}
}
