package hosts_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/workflows/hosts"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"shop.example.com", "shop.example.com", true},
		{"shop.example.com", "Shop.Example.COM.", true},
		{"shop.example.com", "www.shop.example.com", false},
		{"*.shop.example.com", "www.shop.example.com", true},
		{"*.shop.example.com", "api.shop.example.com", true},
		{"*.shop.example.com", "shop.example.com", false},
		{"*.shop.example.com", "a.b.shop.example.com", false},
		{"*.shop.example.com", ".shop.example.com", false},
		{"*.shop.example.com", "wwwshop.example.com", false},
		{"*.example.com", "shop.example.com.evil.test", false},
	}
	for _, tt := range tests {
		if got := hosts.Match(tt.pattern, tt.host); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestGrantsSet(t *testing.T) {
	tests := []struct {
		flags   []string
		want    map[string][]string
		wantErr string
	}{
		{[]string{"acme/shop=*.shop.example.com,shop.example.com"}, map[string][]string{"acme/shop": {"*.shop.example.com", "shop.example.com"}}, ""},
		{[]string{"acme/shop=Shop.Example.com", "acme/shop=b.example.com", "acme/blog=blog.example.com"},
			map[string][]string{"acme/shop": {"shop.example.com", "b.example.com"}, "acme/blog": {"blog.example.com"}}, ""},
		{[]string{"shop.example.com"}, nil, "want owner/name=host"},
		{[]string{"acme=shop.example.com"}, nil, "want owner/name=host"},
		{[]string{"acme/shop="}, nil, "want owner/name=host"},
		{[]string{"acme/shop=a.*.example.com"}, nil, "wildcard is allowed only"},
		{[]string{"acme/shop=*"}, nil, "wildcard is allowed only"},
		{[]string{"acme/shop=*.com"}, nil, "not a host name"},
		{[]string{"acme/shop=shop_1.example.com"}, nil, "not a host name"},
	}
	for _, tt := range tests {
		g := hosts.Grants{}
		var err error
		for _, f := range tt.flags {
			if err = g.Set(f); err != nil {
				break
			}
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Set(%q) = %v, want an error containing %q", tt.flags, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Set(%q) = %v", tt.flags, err)
			continue
		}
		for repo, want := range tt.want {
			if !slices.Equal(g[repo], want) {
				t.Errorf("Set(%q): %s = %v, want %v", tt.flags, repo, g[repo], want)
			}
		}
	}
	g := hosts.Grants{}
	_ = g.Set("acme/shop=*.shop.example.com")
	if !g.Allows("acme/shop", "www.shop.example.com") || g.Allows("acme/blog", "www.shop.example.com") || g.Allows("acme/shop", "shop.example.com") {
		t.Errorf("Allows does not follow the grant %v", g)
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		repo string
		want []string
	}{
		{"acme/shop", []string{"shop", "shop-acme"}},
		{"Acme/My_Shop.v2", []string{"my-shop-v2", "my-shop-v2-acme"}},
		{"group/sub/proj", []string{"proj", "proj-group-sub"}},
		{"acme/___", []string{"repo", "repo-acme"}},
		{"acme/" + strings.Repeat("x", 80), []string{strings.Repeat("x", 63), strings.Repeat("x", 58) + "-acme"}},
	}
	for _, tt := range tests {
		got := hosts.Candidates(tt.repo)
		if len(got) != len(tt.want)+1 || !slices.Equal(got[:len(tt.want)], tt.want) {
			t.Errorf("Candidates(%q) = %v, want %v and a hashed one", tt.repo, got, tt.want)
		}
		for _, l := range got {
			if len(l) > 63 || strings.Trim(l, "-") != l || strings.ToLower(l) != l {
				t.Errorf("Candidates(%q): %q is not a DNS label", tt.repo, l)
			}
		}
	}
	if a, b := hosts.Candidates("acme/shop"), hosts.Candidates("acme-/shop"); a[2] == b[2] {
		t.Errorf("hashed candidates of two repositories are equal: %s", a[2])
	}
}
