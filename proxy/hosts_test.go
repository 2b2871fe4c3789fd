package proxy_test

import (
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/proxy"
)

func TestHosts(t *testing.T) {
	web := MustBackend(t, "web")
	blog := MustBackend(t, "blog")
	p := proxy.New(newStub(map[string][]string{"web.production": {web}, "web.production@acme/blog": {blog}}), "", proxy.WithHosts(proxy.StaticHosts{
		Hosts: map[string]proxy.Route{
			"shop.example.com": {Repo: "acme/shop", Env: "production", Service: "web"},
			"blog.example.com": {Repo: "acme/blog", Env: "production", Service: "web"},
			"half.example.com": {Env: "production", Service: "web"},
		},
		Labels: map[string]string{"shop": "acme/shop"},
	}))
	tests := []struct {
		host     string
		wantCode int
		wantBody string
	}{
		{"shop.example.com", 200, "web host=shop.example.com"},
		{"Shop.Example.COM.:443", 200, "web "},
		{"blog.example.com", 200, "blog host=blog.example.com"},
		{"web.production.shop.localhost", 200, "web "},
		{"other.example.com", 404, "no service answers"},
		{"half.example.com", 404, "no service answers"},
	}
	for _, tt := range tests {
		if code, body := get(t, p, tt.host, "/"); code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tt.host, code, body, tt.wantCode, tt.wantBody)
		}
	}
}
