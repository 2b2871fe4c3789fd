package pipeline

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/forge"
)

// burstClients is how many deliveries the burst keeps in flight.
const burstClients = 32

// burst is what webhookBurst measured.
type burst struct {
	sent, distinct int
	// accepted is the time until every delivery was answered, handled
	// until the consumers of push events had acknowledged every one.
	accepted, handled time.Duration
	// stored counts the push events the burst added to the stream,
	// duplicates the deliveries answered as such.
	stored, duplicates int
}

// webhookBurst sends n signed GitHub push deliveries at once (from
// burstClients clients) to the real webhook receiver of r's repository:
// nine in ten distinct pushes (each of its own branch), the rest
// redeliveries of earlier ones. It runs the read model's projector beside
// r's builder, and waits until the builder's push consumer and the
// projector have acknowledged every event stored.
func webhookBurst(b *testing.B, r *reuseRig, n int) burst {
	b.Helper()
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	secret := []byte("burst-secret-never-logged")
	cfg := *r.cfg
	cfg.RepoSecrets = RepoSecrets{r.repo.FullName: {secret}}
	h, err := IngestHandler(ctx, &cfg, r.conn)
	if err != nil {
		b.Fatal(err)
	}
	quiet := zerolog.New(io.Discard)
	srv := httptest.NewServer(withLogger(quiet, h))
	defer srv.Close()
	done := make(chan error, 1)
	go func() { done <- RunProjector(quiet.WithContext(ctx), &cfg, r.conn) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("projector: %v", err)
		}
	}()

	body := burstBody(b, r.repo.FullName)
	distinct := n * 9 / 10
	before := pushesStored(b, r)
	res := burst{sent: n, distinct: distinct}
	var dups, failed atomic.Int64
	var next atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: burstClients, MaxConnsPerHost: burstClients}}
	defer client.CloseIdleConnections()
	start := time.Now()
	var wg sync.WaitGroup
	for range burstClients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				dup, err := deliver(client, srv.URL+"/webhooks/github", body, i%distinct, secret)
				switch {
				case err != nil:
					failed.Add(1)
				case dup:
					dups.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.accepted = time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("burst: %d of %d deliveries refused or failed", f, n)
	}
	s, err := r.conn.JS.Stream(ctx, natsjs.StreamName)
	if err != nil {
		b.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	waitConsumed(b, ctx, s, info.State.LastSeq, ConsumerPush, ConsumerReadModel)
	res.handled = time.Since(start)
	res.stored, res.duplicates = pushesStored(b, r)-before, int(dups.Load())
	if res.stored != distinct {
		b.Fatalf("burst: %d push events stored, want %d (one per distinct delivery): deliveries lost or doubled", res.stored, distinct)
	}
	return res
}

// burstBody is GitHub's push payload to a branch, of repository repo.
func burstBody(b *testing.B, repo string) []byte {
	b.Helper()
	raw, err := os.ReadFile("../../../forge/github/testdata/push-branch-1commit.json")
	if err != nil {
		b.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		b.Fatal(err)
	}
	return bytes.Replace(compact.Bytes(), []byte(`"full_name":"ailisp/gcbapp-buildconfig-example"`), []byte(`"full_name":"`+repo+`"`), 1)
}

// deliver posts delivery i (a push of its own commit to its own branch),
// signed with secret, and reports whether it was answered as a duplicate.
func deliver(client *http.Client, url string, body []byte, i int, secret []byte) (bool, error) {
	sha := fmt.Sprintf("%040x", i+1)
	body = bytes.Replace(body, []byte(`"after":"e238171456e973f696a972b80599a849db5fe540"`), []byte(`"after":"`+sha+`"`), 1)
	body = bytes.Replace(body, []byte(`"ref":"refs/heads/ailisp-patch-1"`), []byte(fmt.Sprintf(`"ref":"refs/heads/burst-%d"`, i)), 1)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("burst-%d", i))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(forge.SignHMACSHA256(body, secret)))
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	var answer struct {
		Status    string `json:"status"`
		Duplicate bool   `json:"duplicate"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		return false, fmt.Errorf("delivery %d: %d: %w", i, res.StatusCode, err)
	}
	if res.StatusCode/100 != 2 || answer.Status != "accepted" {
		return false, fmt.Errorf("delivery %d: %d %s", i, res.StatusCode, answer.Status)
	}
	return answer.Duplicate, nil
}

// pushesStored counts the push events stream SLIPWAY holds.
func pushesStored(b *testing.B, r *reuseRig) int {
	b.Helper()
	s, err := r.conn.JS.Stream(r.ctx, natsjs.StreamName)
	if err != nil {
		b.Fatal(err)
	}
	info, err := s.Info(r.ctx, jetstream.WithSubjectFilter(events.SubjectPushReceived))
	if err != nil {
		b.Fatal(err)
	}
	return int(info.State.Subjects[events.SubjectPushReceived])
}

// waitConsumed waits until each durable consumer named has acknowledged
// every event it was given (all of them stored before), the last at stream
// sequence last or below.
func waitConsumed(b *testing.B, ctx context.Context, s jetstream.Stream, last uint64, names ...string) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for _, name := range names {
		c, err := s.Consumer(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		for {
			info, err := c.Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if info.NumPending == 0 && info.NumAckPending == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("consumer %s: acknowledged up to %d of %d after 5 minutes (%d pending)", name, info.AckFloor.Stream, last, info.NumPending)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
