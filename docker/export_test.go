package docker

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

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
// the Target has asked the daemon for; each list's answer is handed over
// late by delay, as a loaded daemon's would be.
func NewCounting(opts Options, delay time.Duration) (*Target, *atomic.Int64, error) {
	lists := new(atomic.Int64)
	count := func(c *client.Client) error {
		hc := c.HTTPClient()
		hc.Transport = countLists{base: hc.Transport, lists: lists, delay: delay}
		return client.WithHTTPClient(hc)(c)
	}
	t, err := newTarget(opts, count)
	return t, lists, err
}

// countLists counts the requests that list containers.
type countLists struct {
	base  http.RoundTripper
	lists *atomic.Int64
	delay time.Duration
}

func (c countLists) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/containers/json") {
		c.lists.Add(1)
		resp, err := c.base.RoundTrip(req)
		time.Sleep(c.delay) // after the daemon answered: the answer ages
		return resp, err
	}
	return c.base.RoundTrip(req)
}
