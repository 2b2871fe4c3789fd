package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// SignatureHeader carries "sha256=<hex>", the HMAC-SHA256 keyed by the
// target's secret of "<TimestampHeader value>.<body>".
const (
	SignatureHeader = "X-Slipway-Signature"
	TimestampHeader = "X-Slipway-Timestamp"
)

// Sign returns the signature header's value of body sent at ts.
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Sender delivers notifications to its targets.
type Sender struct {
	Targets []Target
	Client  *http.Client
	// Attempts per target (default 6), the first retry after Backoff
	// (default 1s), doubling up to MaxBackoff (default 30s).
	Attempts            int
	Backoff, MaxBackoff time.Duration
}

// Send delivers n to every target at once, each retried with backoff; it
// returns when each was delivered or gave up, with the errors of those
// that gave up.
func (s *Sender) Send(ctx context.Context, n Notification) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, t := range s.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.deliver(ctx, t, n); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Sender) deliver(ctx context.Context, t Target, n Notification) error {
	attempts, wait, maxWait := s.Attempts, s.Backoff, s.MaxBackoff
	if attempts <= 0 {
		attempts = 6
	}
	if wait <= 0 {
		wait = time.Second
	}
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	log := zerolog.Ctx(ctx).With().Str("receiver", Redact(t.URL)).Str("notification", n.ID).Logger()
	var err error
	for i := range attempts {
		if err = s.post(ctx, t, n); err == nil {
			log.Debug().Int("attempt", i+1).Msg("notification delivered")
			return nil
		}
		var perm permanent
		if errors.As(err, &perm) {
			break
		}
		log.Warn().Err(err).Int("attempt", i+1).Dur("retry_in", wait).Msg("notification not delivered")
		if i == attempts-1 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
	}
	log.Error().Err(err).Msg("notification dropped")
	return fmt.Errorf("notify %s: %w", Redact(t.URL), err)
}

// permanent is an answer a retry will not change (4xx but 408 and 429).
type permanent struct{ code int }

func (p permanent) Error() string { return "receiver refused: " + strconv.Itoa(p.code) }

func (s *Sender) post(ctx context.Context, t Target, n Notification) error {
	body, ctype, err := n.body(t.Format)
	if err != nil {
		return permanent{}
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("bad receiver URL")
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "slipway-notifier")
	if t.Format == FormatCloudEvents {
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", n.ID)
		req.Header.Set("ce-source", "/slipway")
		req.Header.Set("ce-type", "dev.slipway.notify."+string(n.Kind))
		req.Header.Set("ce-time", n.Time.UTC().Format(time.RFC3339Nano))
		if n.Repo != "" {
			req.Header.Set("ce-subject", n.Repo+"/"+n.Env)
		}
	}
	if t.Secret != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign(t.Secret, ts, body))
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) { // its message holds the URL: a Slack webhook's secret
			err = uerr.Err
		}
		return fmt.Errorf("post failed: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return permanent{code: resp.StatusCode}
	}
	return fmt.Errorf("receiver answered %d", resp.StatusCode)
}
