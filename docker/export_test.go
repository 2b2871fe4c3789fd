package docker

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/docker/docker/client"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

// StartCandidates starts the candidates of d and leaves them, as a deploy
// whose process died before the health gate ended does.
func (t *Target) StartCandidates(ctx context.Context, d deploy.Deployment) error {
	_, err := t.startAll(ctx, d, nil, nil, nil)
	return err
}

// NewCounting is New with a count of the container lists (ContainerList)
// the Target has asked the daemon for.
func NewCounting(opts Options) (*Target, *atomic.Int64, error) {
	lists := new(atomic.Int64)
	count := func(c *client.Client) error {
		hc := c.HTTPClient()
		hc.Transport = countLists{base: hc.Transport, lists: lists}
		return client.WithHTTPClient(hc)(c)
	}
	t, err := newTarget(opts, count)
	return t, lists, err
}

// countLists counts the requests that list containers.
type countLists struct {
	base  http.RoundTripper
	lists *atomic.Int64
}

func (c countLists) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/containers/json") {
		c.lists.Add(1)
	}
	return c.base.RoundTrip(req)
}
