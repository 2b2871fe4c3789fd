// Package testport hands tests loopback ports to listen on later (a
// process they start, a configuration they write).
//
// A port taken with net.Listen("127.0.0.1:0") and closed is in the
// kernel's ephemeral range: until the test listens on it again, any
// outgoing connection of the machine (to Docker, the registry, NATS) or
// any other ":0" listener may be given it, and the test fails with
// "address already in use" or reaches the wrong server. The ports handed
// here are below that range, so nothing is given them but by a test; each
// is handed once per process, and checked free when handed.
package testport

import (
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
)

// The ports handed out: below Linux's default ephemeral range (32768–60999)
// and above the well-known and registered ports most daemons use.
const (
	lowest  = 20000
	highest = 32700
)

var (
	mu     sync.Mutex
	handed = map[int]bool{}
)

// Port returns a port of 127.0.0.1 nothing listens on, not handed before
// in this process.
func Port(tb testing.TB) int {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	for range 1000 {
		p := lowest + rand.IntN(highest-lowest)
		if handed[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		_ = l.Close()
		handed[p] = true
		return p
	}
	tb.Fatal("testport: no free port found in 1000 tries")
	return 0
}

// Addr returns "127.0.0.1:<Port>".
func Addr(tb testing.TB) string {
	tb.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(tb)))
}
