package pipeline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// mustServe serves a handler reading whole bodies, as the receiver does, with
// limits on a real socket, until the test ends.
func mustServe(t *testing.T, limits ReceiverLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		}), limits)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

// closedWithin waits up to d for the server to close conn and returns how
// long it took, or an error if it did not.
func closedWithin(conn net.Conn, d time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := conn.SetReadDeadline(start.Add(d)); err != nil {
		return 0, err
	}
	_, err := io.Copy(io.Discard, conn)
	took := time.Since(start)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return took, fmt.Errorf("connection still open after %s", took.Round(time.Millisecond))
	}
	return took, nil
}

// TestServeCutsOffSlowBodies sends the headers and half of a body, then
// nothing: the server closes the connection once the read timeout has
// passed, not before.
func TestServeCutsOffSlowBodies(t *testing.T) {
	limits := DefaultReceiverLimits()
	limits.ReadTimeout = 700 * time.Millisecond
	addr := mustServe(t, limits)
	start := time.Now() // before the dial: the server's deadline starts at its accept, no earlier
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n%050d", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := closedWithin(conn, 10*time.Second); err != nil {
		t.Fatalf("slow body: %v, want it cut off after the %s read timeout", err, limits.ReadTimeout)
	}
	// The server's clock starts at its accept; a few milliseconds of timer
	// slack under -race are not an early cut-off.
	if took := time.Since(start); took < limits.ReadTimeout-50*time.Millisecond {
		t.Errorf("cut off after %s, before the %s read timeout", took, limits.ReadTimeout)
	}
}

// TestServeClosesIdleConnections makes one request on a keep-alive
// connection, then leaves it idle: the server closes it after the idle
// timeout.
func TestServeClosesIdleConnections(t *testing.T) {
	limits := DefaultReceiverLimits()
	limits.IdleTimeout = 500 * time.Millisecond
	addr := mustServe(t, limits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprint(conn, "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 12)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "HTTP/1.1 202" {
		t.Fatalf("answer %q, %v", buf, err)
	}
	if _, err := closedWithin(conn, 10*time.Second); err != nil {
		t.Errorf("idle keep-alive connection: %v, want it closed after the %s idle timeout", err, limits.IdleTimeout)
	}
}

func TestReceiverLimitsBind(t *testing.T) {
	l := DefaultReceiverLimits()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	l.Bind(fs)
	err := fs.Parse([]string{"-http-read-timeout", "5s", "-http-write-timeout", "6s", "-http-idle-timeout", "7s", "-max-concurrent-bodies", "8", "-max-bytes-in-flight", "9"})
	if err != nil {
		t.Fatal(err)
	}
	want := ReceiverLimits{ReadTimeout: 5 * time.Second, WriteTimeout: 6 * time.Second, IdleTimeout: 7 * time.Second, MaxConcurrentBodies: 8, MaxBytesInFlight: 9}
	if l != want || l.Validate() != nil {
		t.Errorf("limits %+v (%v), want %+v", l, l.Validate(), want)
	}
	if (ReceiverLimits{}).Validate() == nil {
		t.Error("zero limits validated")
	}
}
