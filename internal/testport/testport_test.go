package testport

import (
	"net"
	"strconv"
	"testing"
)

// TestPortOutsideEphemeralRangeAndUnique: every port handed is below the
// ephemeral range, free to listen on, and never handed twice.
func TestPortOutsideEphemeralRangeAndUnique(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		p := Port(t)
		if p < lowest || p >= highest || p >= 32768 {
			t.Fatalf("port %d outside [%d, %d)", p, lowest, highest)
		}
		if seen[p] {
			t.Fatalf("port %d handed twice", p)
		}
		seen[p] = true
	}
	a := Addr(t)
	l, err := net.Listen("tcp", a)
	if err != nil {
		t.Fatalf("listen on handed %s: %v", a, err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(a)
	if p, _ := strconv.Atoi(port); seen[p] {
		t.Errorf("Addr handed %s, a port Port had handed", a)
	}
}
