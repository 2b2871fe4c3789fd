package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// ForceBuild requests the builds of commit sha (its full id or a unique
// prefix of at least 7 digits) again, as `slipway build -force` does: the
// build requests its push published are published once more carrying the
// nonce force, so every service is solved whatever was built before under
// its build key, as steps of their own, and the commit-built event that
// follows is a new one (its deploys automatic requests under the nonce). It
// returns the commit and the services requested.
func ForceBuild(ctx context.Context, c *Conn, sha, force string) (commit string, services []string, err error) {
	if len(sha) < 7 || strings.Trim(sha, "0123456789abcdef") != "" {
		return "", nil, fmt.Errorf("force a build: %q is not a commit id (7 to 40 lower-case hex digits)", sha)
	}
	if force == "" {
		return "", nil, errors.New("force a build: no nonce")
	}
	reqs, err := firstRequests(ctx, c, sha)
	if err != nil {
		return "", nil, err
	}
	pub := natsjs.NewPublisher(c.JS, "/slipway/cli")
	for _, r := range reqs {
		r.Force = force
		if _, err := pub.Publish(ctx, r); err != nil {
			return "", nil, fmt.Errorf("force a build of %s: %w", r.Service.Name, err)
		}
		services = append(services, r.Service.Name)
	}
	return reqs[0].Commit, services, nil
}

// firstRequests returns the build requests the planning of the commit
// published, one per service, read from the stream.
func firstRequests(ctx context.Context, c *Conn, sha string) ([]*events.BuildRequested, error) {
	envs, err := natsjs.Events(ctx, c.JS, events.SubjectBuildRequested)
	if err != nil {
		return nil, fmt.Errorf("force a build: read build requests: %w", err)
	}
	var out []*events.BuildRequested
	seen := map[string]bool{}
	commit := ""
	for _, env := range envs {
		var r events.BuildRequested
		if json.Unmarshal(env.Data, &r) != nil || r.Force != "" || !strings.HasPrefix(r.Commit, sha) {
			continue
		}
		if commit != "" && r.Commit != commit {
			return nil, fmt.Errorf("force a build: %s names commits %s and %s: give more digits", sha, commit, r.Commit)
		}
		commit = r.Commit
		if key := r.Branch + "/" + r.Service.Name; !seen[key] {
			seen[key] = true
			out = append(out, &r)
		}
	}
	if len(out) == 0 {
		return nil, events.Permanent(fmt.Errorf("force a build: no build of commit %s was ever requested", sha))
	}
	return out, nil
}
