package metrics

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestForgetGoneDeletesTheSeriesOfRemovedEnvironments: the proxy's series
// of an environment that is no longer live (a removed preview) are deleted
// at the next scrape; those of live environments and of requests for no
// environment stay.
func TestForgetGoneDeletesTheSeriesOfRemovedEnvironments(t *testing.T) {
	for _, tc := range []struct {
		name string
		live []envKey
		want []string // environments left in slipway_proxy_requests_total
	}{
		{"preview removed", []envKey{{"acme/shop", "staging"}}, []string{`env=""`, `env="staging"`}},
		{"both live", []envKey{{"acme/shop", "staging"}, {"acme/shop", "pr-7"}}, []string{`env=""`, `env="pr-7"`, `env="staging"`}},
		{"other repository's staging", []envKey{{"other/shop", "staging"}}, []string{`env=""`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.Proxied("acme/shop", "staging", "web", 200, time.Millisecond)
			m.Proxied("acme/shop", "pr-7", "web", 502, time.Millisecond)
			m.Proxied("", "", "", 404, time.Millisecond)
			live := map[envKey]bool{}
			for _, k := range tc.live {
				live[k] = true
			}
			m.forgetGone(live)
			if n := testutil.CollectAndCount(m.proxied); n != len(tc.want) {
				t.Errorf("%d request series left, want %d", n, len(tc.want))
			}
			if n := testutil.CollectAndCount(m.latency); n != len(tc.want) {
				t.Errorf("%d latency series left, want %d", n, len(tc.want))
			}
			var got []string
			mfs, err := m.Registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() != "slipway_proxy_requests_total" {
					continue
				}
				for _, mt := range mf.GetMetric() {
					for _, l := range mt.GetLabel() {
						if l.GetName() == "env" {
							got = append(got, `env="`+l.GetValue()+`"`)
						}
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("request series of %v left, want %v", got, tc.want)
			}
		})
	}
}
