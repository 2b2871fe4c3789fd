package forgeapi_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forgeapi"
	"github.com/slipway-dev/slipway/workflows/notify"
)

// TestAPIURLForms: -forge-api gitea=https://<host>/api/v1 (the API URL) and
// gitea=https://<host> (the root) post to the same path, not a doubled one.
func TestAPIURLForms(t *testing.T) {
	for _, tt := range []struct{ kind, suffix, want string }{
		{"gitea", "", "/api/v1/repos/acme/shop/statuses/" + sha},
		{"gitea", "/api/v1", "/api/v1/repos/acme/shop/statuses/" + sha},
		{"gitlab", "/api/v4", "/api/v4/projects/acme%2Fshop/statuses/" + sha},
	} {
		f := &fakeAPI{}
		srv := httptest.NewServer(f)
		c, err := forgeapi.New(tt.kind, srv.URL+tt.suffix, token)
		if err != nil {
			t.Fatal(err)
		}
		err = c.PostStatus(context.Background(), notify.Status{Repo: events.Repo{FullName: "acme/shop"}, SHA: sha, State: notify.Success, Context: "slipway/build"})
		srv.Close()
		if err != nil || len(f.calls) != 1 || f.calls[0].Path != tt.want {
			t.Errorf("%s at root%s: %v, calls %+v; want one POST %s", tt.kind, tt.suffix, err, f.calls, tt.want)
		}
	}
}
