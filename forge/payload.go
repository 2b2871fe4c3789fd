package forge

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"
)

// Payload returns the JSON payload of a delivery. Hosts send it either as the
// body (Content-Type application/json, the usual choice) or, when the hook is
// configured with application/x-www-form-urlencoded (GitHub's historical
// default), as the form field "payload".
func Payload(r Request) ([]byte, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/x-www-form-urlencoded" {
		return r.Body, nil
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, fmt.Errorf("%w: form body: %w", ErrMalformed, err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, fmt.Errorf("%w: form body has no payload field", ErrMalformed)
	}
	return []byte(payload), nil
}

// RepoFullName returns repository.full_name from a JSON payload, the shape
// GitHub, Gitea, Forgejo and Gogs share, or "" when the payload has no
// repository. A payload that is not a JSON object is ErrMalformed.
func RepoFullName(payload []byte) (string, error) {
	var p struct {
		Repository *struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := Decode(payload, &p); err != nil {
		return "", err
	}
	if p.Repository == nil {
		return "", nil
	}
	return p.Repository.FullName, nil
}

// Decode unmarshals a JSON payload into v, wrapping any failure in
// ErrMalformed. A payload nesting deeper than MaxDepth is refused before it
// is decoded (see CheckDepth): every forge decodes through here, so none can
// be made to overflow its stack. So is one that is not UTF-8 (JSON is, and
// the decoder would silently turn a ref's invalid bytes into U+FFFD, naming
// another ref).
func Decode(payload []byte, v any) error {
	if err := CheckDepth(payload, MaxDepth); err != nil {
		return err
	}
	if !utf8.Valid(payload) {
		return fmt.Errorf("%w: json is not valid UTF-8", ErrMalformed)
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%w: decode json: %w", ErrMalformed, err)
	}
	return nil
}

// FirstHeader returns the first non-empty value among the headers names.
func FirstHeader(h map[string][]string, names ...string) string {
	for _, name := range names {
		if v := http.Header(h).Get(name); v != "" {
			return v
		}
	}
	return ""
}
