package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// authorizer answers a registry's 401 challenges with one host's
// credential: HTTP basic, or a bearer token from the token service the
// challenge names (the Docker token protocol, with a password or an
// identity token). The last answer is reused until the registry refuses it.
type authorizer struct {
	host string
	cred Credential
	has  bool
	http *http.Client

	mu   sync.Mutex
	last string // the last Authorization header the registry accepted
}

// cached is the Authorization header to send first.
func (a *authorizer) cached() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// answer returns the Authorization header that answers challenge.
func (a *authorizer) answer(ctx context.Context, challenge string) (string, error) {
	scheme, params := parseChallenge(challenge)
	var authz string
	switch {
	case !a.has:
		return "", &RefusedError{Host: a.host, Err: errors.New("401 Unauthorized")}
	case scheme == "basic":
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(a.cred.Username+":"+a.cred.Password))
	case scheme == "bearer":
		token, err := a.token(ctx, params)
		if err != nil {
			return "", err
		}
		authz = "Bearer " + token
	default:
		return "", fmt.Errorf("registry %s: unsupported authentication scheme %q", a.host, scheme)
	}
	a.mu.Lock()
	a.last = authz
	a.mu.Unlock()
	return authz, nil
}

// token fetches a bearer token from the realm of a challenge.
func (a *authorizer) token(ctx context.Context, params map[string]string) (string, error) {
	realm, err := url.Parse(params["realm"])
	if err != nil || realm.Host == "" {
		return "", fmt.Errorf("registry %s: bearer challenge without a usable realm", a.host)
	}
	req, err := a.tokenRequest(ctx, realm, params)
	if err != nil {
		return "", err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", a.host, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", &RefusedError{Host: a.host, Sent: true, Err: fmt.Errorf("token service %s: %s", realm.Host, resp.Status)}
	case resp.StatusCode/100 != 2:
		return "", fmt.Errorf("token for %s: %s answered %s", a.host, realm.Host, resp.Status)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("token for %s: %s sent no JSON token", a.host, realm.Host)
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	if body.Token == "" {
		return "", fmt.Errorf("token for %s: %s sent an empty token", a.host, realm.Host)
	}
	return body.Token, nil
}

// tokenRequest is a GET with basic credentials, or, for an identity token,
// the OAuth2 refresh-token POST.
func (a *authorizer) tokenRequest(ctx context.Context, realm *url.URL, params map[string]string) (*http.Request, error) {
	q := url.Values{}
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	if s := params["scope"]; s != "" {
		q.Set("scope", s)
	}
	if a.cred.IdentityToken != "" {
		q.Set("grant_type", "refresh_token")
		q.Set("refresh_token", a.cred.IdentityToken)
		q.Set("client_id", "slipway")
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, realm.String(), strings.NewReader(q.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	u := *realm
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(a.cred.Username, a.cred.Password)
	return req, nil
}

// parseChallenge splits a WWW-Authenticate header into its lower-cased
// scheme and its key="value" parameters.
func parseChallenge(h string) (scheme string, params map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params = map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimLeft(strings.TrimSpace(rest), ",") {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				break
			}
			val, rest = after[1:end+1], after[end+2:]
		} else {
			val, rest, _ = strings.Cut(after, ",")
		}
		params[key] = val
	}
	return strings.ToLower(scheme), params
}
