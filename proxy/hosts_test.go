package proxy_test

import (
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/proxy"
)

// hosts is a HostTable from a map of host to "service.env".
type hosts map[string]string

func (h hosts) Lookup(host string) (string, string, bool) {
	svc, env, ok := strings.Cut(h[host], ".")
	return env, svc, ok
}

func TestHosts(t *testing.T) {
	web := MustBackend(t, "web")
	p := proxy.New(newStub(map[string][]string{"web.production": {web}}), "", proxy.WithHosts(hosts{"shop.example.com": "web.production"}))
	tests := []struct {
		host     string
		wantCode int
		wantBody string
	}{
		{"shop.example.com", 200, "web host=shop.example.com"},
		{"Shop.Example.COM.:443", 200, "web "},
		{"web.production.localhost", 200, "web "},
		{"other.example.com", 404, "no service answers"},
	}
	for _, tt := range tests {
		if code, body := get(t, p, tt.host, "/"); code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tt.host, code, body, tt.wantCode, tt.wantBody)
		}
	}
}
