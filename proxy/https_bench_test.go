package proxy_test

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkHTTPSHandshake measures, in the same run, a request through the
// proxy on a new connection over plain HTTP and over HTTPS (TCP, a full
// TLS handshake with an ECDSA P-256 certificate verified by the client,
// then the proxied request), alternating the two, and reports the p50 and
// p99 of each and their ratios.
func BenchmarkHTTPSHandshake(b *testing.B) {
	f := mustFilesFront(b, 0)
	plain, secure := client(f.HTTP, nil), client(f.HTTPS, f.Roots)
	var plainTimes, tlsTimes []time.Duration
	for b.Loop() {
		plainTimes = append(plainTimes, mustTimeGet(b, plain, "http://plain.example.com/"))
		tlsTimes = append(tlsTimes, mustTimeGet(b, secure, "https://shop.example.com/"))
	}
	p50h, p99h := percentile(plainTimes, 50), percentile(plainTimes, 99)
	p50s, p99s := percentile(tlsTimes, 50), percentile(tlsTimes, 99)
	b.ReportMetric(ms(p50h), "http-p50-ms")
	b.ReportMetric(ms(p99h), "http-p99-ms")
	b.ReportMetric(ms(p50s), "https-p50-ms")
	b.ReportMetric(ms(p99s), "https-p99-ms")
	b.ReportMetric(ms(p50s)/ms(p50h), "p50-ratio")
	b.ReportMetric(ms(p99s)/ms(p99h), "p99-ratio")
}

// mustTimeGet returns how long GET url took with c, body read.
func mustTimeGet(b *testing.B, c *http.Client, url string) time.Duration {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	return time.Since(start)
}

// percentile returns the p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
