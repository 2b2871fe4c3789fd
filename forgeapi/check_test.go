package forgeapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/forgeapi"
)

func TestNormalizeBase(t *testing.T) {
	tests := []struct{ kind, base, want string }{
		{"gitea", "https://git.example.com", "https://git.example.com"},
		{"gitea", "https://git.example.com/api/v1", "https://git.example.com"},
		{"gitea", "https://git.example.com/api/v1/", "https://git.example.com"},
		{"forgejo", "https://code.example.org/forgejo/api/v1", "https://code.example.org/forgejo"},
		{"gitlab", "https://gitlab.example.com/api/v4", "https://gitlab.example.com"},
		{"gitlab", "https://gitlab.example.com/", "https://gitlab.example.com"},
		{"github", "https://github.com", "https://api.github.com"},
		{"github", "https://api.github.com", "https://api.github.com"},
		{"github", "https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3"},
		{"bitbucket", "https://bitbucket.org", "https://api.bitbucket.org"},
		{"bitbucket", "https://api.bitbucket.org/2.0", "https://api.bitbucket.org"},
	}
	for _, tt := range tests {
		if got := forgeapi.NormalizeBase(tt.kind, tt.base); got != tt.want {
			t.Errorf("NormalizeBase(%q, %q) = %q, want %q", tt.kind, tt.base, got, tt.want)
		}
	}
}

// userAPI answers a host's "who am I" endpoint at path for the token tok.
func userAPI(path, tok, header string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		if !strings.Contains(r.Header.Get(header), tok) {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"login": "octo", "username": "octo"})
	})
}

// TestCheck: one authenticated GET tells a good configuration, a refused
// token, a URL without the API and an unreachable host apart; no error
// holds the token.
func TestCheck(t *testing.T) {
	hosts := []struct{ kind, path, header string }{
		{"github", "/api/v3/user", "Authorization"},
		{"gitea", "/api/v1/user", "Authorization"},
		{"gitlab", "/api/v4/user", "PRIVATE-TOKEN"},
		{"bitbucket", "/2.0/user", "Authorization"},
	}
	for _, h := range hosts {
		srv := httptest.NewServer(userAPI(h.path, token, h.header))
		base := srv.URL
		if h.kind == "github" {
			base += "/api/v3"
		}
		tests := []struct{ name, base, tok, want string }{
			{"good", base, token, ""},
			{"refused token", base, "not-the-right-one", "refused the token (401 Unauthorized)"},
			{"wrong URL", srv.URL + "/nothing-here", token, "no API at " + srv.URL + "/nothing-here (404 Not Found)"},
		}
		for _, tt := range tests {
			c, err := forgeapi.New(h.kind, tt.base, tt.tok)
			if err != nil {
				t.Fatal(err)
			}
			user, err := forgeapi.Check(context.Background(), c)
			switch {
			case tt.want == "" && (err != nil || user != "octo"):
				t.Errorf("%s %s: %q, %v; want octo", h.kind, tt.name, user, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("%s %s: %v; want %q", h.kind, tt.name, err, tt.want)
			case err != nil && strings.Contains(err.Error(), token):
				t.Errorf("%s %s: the error holds the token: %v", h.kind, tt.name, err)
			}
		}
		srv.Close()
		c, _ := forgeapi.New(h.kind, base, token)
		if _, err := forgeapi.Check(context.Background(), c); err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("%s unreachable: %v", h.kind, err)
		}
	}
}
