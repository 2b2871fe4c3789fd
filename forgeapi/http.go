package forgeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// Timeout bounds every call to a host.
const Timeout = 10 * time.Second

// api is the HTTP side shared by the clients.
type api struct {
	base   string
	token  string
	client *http.Client
	// auth sets the token on a request; each host has its header.
	auth func(r *http.Request, token string)
}

func newHTTP(base, token string) *api {
	return &api{base: base, token: token, client: &http.Client{Timeout: Timeout}, auth: bearer}
}

func bearer(r *http.Request, token string) { r.Header.Set("Authorization", "Bearer "+token) }

// call sends body as JSON to path and decodes a 2xx answer into out (when
// not nil). Errors name the method, path and status, never the token.
func (a *api) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "slipway")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		a.auth(req, a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, scrub(err, a.token))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		err := fmt.Errorf("%s %s: %w", method, path, &statusError{code: resp.StatusCode, status: resp.Status,
			body: strings.TrimSpace(strings.ReplaceAll(string(msg), a.token, "***"))})
		if refused(resp.StatusCode) {
			return events.Permanent(err)
		}
		return err
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// statusError is a host's answer that is not 2xx.
type statusError struct {
	code         int
	status, body string
}

func (e *statusError) Error() string { return e.status + ": " + e.body }

// refused reports whether a host's answer refuses the request itself (a
// 4xx but a timeout or a rate limit): sending it again changes nothing.
func refused(code int) bool {
	return code/100 == 4 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
}

// scrub removes the token from an error's text.
func scrub(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), token, "***"))
}
