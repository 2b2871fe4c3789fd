package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var shared struct {
	sync.Mutex
	started bool
	c       *Cluster
	err     error
	dir     string
}

// Main runs a package's tests and stops the cluster Shared started, if
// any: call it from TestMain, os.Exit(kubetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.c != nil {
		if code != 0 {
			_, _ = os.Stderr.WriteString(shared.c.logTails() + "\n")
		}
		shared.c.stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	return code
}

// Shared returns the package's cluster, starting it for the first test
// that asks (the package's TestMain must call Main, which stops it). A
// missing binary skips the test, or fails it in CI; a cluster that does
// not start fails every test that asks for it.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.started {
		shared.started = true
		dir, err := os.MkdirTemp("", "kubetest-")
		if err != nil {
			shared.err = err
		} else {
			shared.dir = dir
			shared.c, shared.err = start(tb, dir)
		}
	}
	switch {
	case errors.Is(shared.err, errMissing):
		if os.Getenv("CI") == "true" {
			tb.Fatalf("kubetest: %v", shared.err)
		}
		tb.Skipf("kubetest: %v", shared.err)
	case shared.err != nil:
		tb.Fatalf("kubetest: start cluster: %v", shared.err)
	}
	return shared.c
}

// MustNamespace creates a namespace of a fresh name and deletes it when
// the test ends.
func (c *Cluster) MustNamespace(tb testing.TB, prefix string) string {
	tb.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		tb.Fatalf("kubetest: create namespace %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}
