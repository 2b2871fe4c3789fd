package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestBuildsShowLatestPerCommitAndService: `slipway builds` and `slipway
// status` show the latest build of each commit and service as the builders
// recorded it on the stream, failures with their reason, also of a
// repository that has no environment yet (its first commit failed).
func TestBuildsShowLatestPerCommitAndService(t *testing.T) {
	up := openUp(t)
	ctx := context.Background()
	shop := events.Repo{Forge: "github", FullName: "acme/shop"}
	blog := events.Repo{Forge: "github", FullName: "acme/blog"}
	c1, c2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
	pub := natsjs.NewPublisher(up.Conn().JS, "/test")
	for _, ev := range []events.Event{
		&events.BuildRequested{Repo: shop, Commit: c1, Service: events.ServiceSpec{Name: "web"}},
		&events.BuildRequested{Repo: shop, Commit: c1, Service: events.ServiceSpec{Name: "api"}},
		&events.BuildSucceeded{Repo: shop, Commit: c1, Service: "web", Digest: "sha256:" + strings.Repeat("a", 64)},
		&events.BuildFailed{Repo: shop, Commit: c1, Service: "api", Reason: "RUN make: exit code 2\nmore"},
		&events.BuildRequested{Repo: shop, Commit: c2, Service: events.ServiceSpec{Name: "web"}},
		&events.BuildFailed{Repo: blog, Commit: c2, Reason: "slipway.yaml:3: services[0].port: required"},
	} {
		if _, err := pub.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := builds(ctx, up.Conn(), "acme/shop", "", &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`acme/shop\s+111111111111\s+web\s+succeeded\s+sha256:a{64}`,
		`acme/shop\s+111111111111\s+api\s+failed\s+RUN make: exit code 2\n`,
		`acme/shop\s+222222222222\s+web\s+building\s`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("builds does not show %s:\n%s", want, out.String())
		}
	}
	if strings.Count(out.String(), "\n") != 4 || strings.Contains(out.String(), "acme/blog") {
		t.Errorf("builds of acme/shop: want a header and three builds:\n%s", out.String())
	}
	out.Reset()
	if err := builds(ctx, up.Conn(), "", "2222", &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`acme/blog\s+222222222222\s+\(commit\)\s+failed\s+slipway.yaml:3: services\[0\].port: required`).MatchString(out.String()) ||
		strings.Contains(out.String(), "111111111111") {
		t.Errorf("builds of commit 2222 in every repository:\n%s", out.String())
	}
	out.Reset()
	if err := status(ctx, up.Conn(), &up.Config, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "BUILDS") || !regexp.MustCompile(`acme/blog\s+222222222222\s+\(commit\)\s+failed`).MatchString(out.String()) ||
		!regexp.MustCompile(`acme/shop\s+111111111111\s+api\s+failed\s+RUN make`).MatchString(out.String()) {
		t.Errorf("status does not show the builds:\n%s", out.String())
	}
}
