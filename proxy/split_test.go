package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-dev/slipway/proxy"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// memSplits is an in-memory proxy.Splits; the NATS one is tested with the
// controller (workflows/canary).
type memSplits struct {
	mu    sync.Mutex
	split *canary.Split
	stats map[string]canary.Stats
}

func (m *memSplits) Split(context.Context, string, string) (canary.Split, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.split == nil {
		return canary.Split{}, false, nil
	}
	return *m.split, true, nil
}

func (m *memSplits) PutStats(_ context.Context, repo, env, id string, st canary.Stats) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats[repo+"/"+env+"/"+id] = st
	return nil
}

// TestSplitSendsWeightToShadowAndCounts: with a 10% split, exactly one
// request in ten goes to the shadow, evenly spread; each release's answers
// are counted, a 5xx as an error, and published.
func TestSplitSendsWeightToShadowAndCounts(t *testing.T) {
	stable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("stable")) }))
	defer stable.Close()
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "shadow", http.StatusServiceUnavailable) }))
	defer shadow.Close()
	res := newStub(map[string][]string{
		"web.prod":         {strings.TrimPrefix(stable.URL, "http://")},
		"web.prod--canary": {strings.TrimPrefix(shadow.URL, "http://")},
	})
	splits := &memSplits{split: &canary.Split{Shadow: "prod--canary", Weight: 10}, stats: map[string]canary.Stats{}}
	p := proxy.New(res, "", labels, proxy.WithSplits(splits, "p1"))
	got := ""
	for range 100 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "http://web.prod.shop.localhost/", nil)
		p.ServeHTTP(rec, req)
		if rec.Code == http.StatusServiceUnavailable {
			got += "s"
		} else {
			got += "."
		}
	}
	if want := strings.Repeat(".........s", 10); got != want {
		t.Errorf("requests went %s, want %s", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.PublishCounts(ctx); err != nil { // publishes once as it ends
		t.Fatal(err)
	}
	st := splits.stats["acme/shop/prod/p1"]
	if st.Stable.Requests != 90 || st.Stable.Errors != 0 || st.Canary.Requests != 10 || st.Canary.Errors != 10 {
		t.Errorf("published %+v, want 90 good stable and 10 failed canary requests", st)
	}
}

// TestNoSplitNoCounts: an environment without a split is proxied as
// before and counts nothing.
func TestNoSplitNoCounts(t *testing.T) {
	stable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("stable")) }))
	defer stable.Close()
	res := newStub(map[string][]string{"web.prod": {strings.TrimPrefix(stable.URL, "http://")}})
	splits := &memSplits{stats: map[string]canary.Stats{}}
	p := proxy.New(res, "", labels, proxy.WithSplits(splits, "p1"))
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://web.prod.shop.localhost/", nil))
	if rec.Code != 200 || rec.Body.String() != "stable" {
		t.Fatalf("answer %d %q", rec.Code, rec.Body.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = p.PublishCounts(ctx)
	if len(splits.stats) != 0 {
		t.Errorf("published %v without a split", splits.stats)
	}
}
