package ingest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// uploads serves h over a real socket and counts, from outside the
// handler, the bytes each request's body gave it.
type uploads struct {
	url      string
	fullRead atomic.Int64 // requests whose body gave at least part bytes
	part     int64
}

func mustServeUploads(tb testing.TB, h http.Handler, part int64) *uploads {
	tb.Helper()
	u := &uploads{part: part}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A copy of the request: net/http must still see its own body
		// to know it was left unread.
		r = r.WithContext(zerolog.Nop().WithContext(r.Context()))
		r.Body = &countingBody{ReadCloser: r.Body, u: u}
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(ts.Close)
	u.url = ts.URL
	return u
}

type countingBody struct {
	io.ReadCloser
	u       *uploads
	n       int64
	counted bool
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	if !c.counted && c.n >= c.u.part {
		c.counted = true
		c.u.fullRead.Add(1)
	}
	return n, err
}

// heldUpload opens a connection and sends a GitHub delivery's headers
// announcing length bytes, then part of them, and holds the connection. The
// status of an answer is sent on answered, or 0 when the server closes the
// connection without one reaching the client (closing a socket with unread
// bytes resets it).
func heldUpload(tb testing.TB, addr string, length int64, part []byte, answered chan<- int) net.Conn {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	go func() {
		fmt.Fprintf(conn, "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n", length)
		_, _ = conn.Write(part)
	}()
	go func() {
		var status int
		_, _ = fmt.Fscanf(conn, "HTTP/1.1 %d", &status)
		answered <- status
	}()
	return conn
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentBodiesLimit holds N uploads open on the handler: the next
// delivery is answered 503 with Retry-After instead of being read, and is
// accepted once one of the held uploads gives up.
func TestConcurrentBodiesLimit(t *testing.T) {
	const n = 4
	cfg := testConfig()
	cfg.MaxConcurrentBodies, cfg.QueueWait = n, 100*time.Millisecond
	h := MustNewHandler(t, cfg, &stubPublisher{})
	part := bytes.Repeat([]byte(" "), 1024)
	u := mustServeUploads(t, h, int64(len(part)))
	answered := make(chan int, n+1)
	var held []net.Conn
	for range n {
		held = append(held, heldUpload(t, u.url[len("http://"):], 60<<10, part, answered))
	}
	waitFor(t, 10*time.Second, "the held uploads never reached the handler", func() bool { return u.fullRead.Load() == n })

	push := githubDelivery("push", MustReadFixture(t, "push-main-1commit.json"), secretOld)
	send := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, u.url+push.path, bytes.NewReader(push.body))
		for k, v := range push.header {
			req.Header.Set(k, v)
		}
		c := &http.Client{Timeout: 5 * time.Second}
		return c.Do(req)
	}
	res, err := send()
	if err != nil {
		t.Fatalf("delivery %d: %v, want 503", n+1, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("delivery %d: %d (Retry-After %q), want 503 with Retry-After", n+1, res.StatusCode, res.Header.Get("Retry-After"))
	}
	held[0].Close()
	waitFor(t, 10*time.Second, "no slot came free", func() bool { return h.limit.held() < n })
	res, err = send()
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery once a slot is free: %v %v, want 202", res, err)
	}
	res.Body.Close()
}

// TestHeldUploadsMemory holds 300 uploads of 256 KiB each (of 4 MiB
// announced) open at once and checks that the receiver's heap grows by a
// bounded amount: the bodies it reads at once and the bytes they hold are
// capped, the others are answered 503.
func TestHeldUploadsMemory(t *testing.T) {
	const uploadsN, partLen = 300, 256 << 10
	cfg := testConfig()
	cfg.MaxBodyBytes, cfg.MaxBytesInFlight = 4<<20, 8<<20
	cfg.MaxConcurrentBodies, cfg.QueueWait = 32, 100*time.Millisecond
	h := MustNewHandler(t, cfg, &stubPublisher{})
	u := mustServeUploads(t, h, partLen)
	part := bytes.Repeat([]byte(" "), partLen)
	answered := make(chan int, uploadsN)
	before := heapInUse()
	for range uploadsN {
		heldUpload(t, u.url[len("http://"):], 4<<20, part, answered)
	}
	var mu sync.Mutex
	refused := 0
	waitFor(t, 60*time.Second, "the uploads were neither all read nor refused", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for len(answered) > 0 {
			if status := <-answered; status == http.StatusServiceUnavailable || status == 0 {
				refused++
			}
		}
		return int(u.fullRead.Load())+refused >= uploadsN
	})
	growth := heapInUse() - before
	t.Logf("%d uploads held: %d read at once, %d refused; heap grew %.1f MiB", uploadsN, u.fullRead.Load(), refused, float64(growth)/(1<<20))
	const bound = 40 << 20
	if growth > bound {
		t.Errorf("heap grew %.1f MiB holding %d uploads, want at most %d MiB", float64(growth)/(1<<20), uploadsN, bound>>20)
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
