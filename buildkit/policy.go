package buildkit

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
)

// Option configures a Builder.
type Option func(*Builder) error

// AllowBaseImages limits the images a build may pull (FROM, COPY --from, a
// "# syntax" frontend) to those matching one of patterns; every other image
// is denied by buildkitd before anything is fetched. A pattern is a
// normalised image reference in which "*" matches any characters, "/"
// included: "localhost:5000/mirror/*" allows every image below
// localhost:5000/mirror. No pattern allows every image.
func AllowBaseImages(patterns ...string) Option {
	return func(b *Builder) error {
		p, err := basePolicy(patterns)
		if err != nil {
			return err
		}
		b.policy, b.allow = p, patterns
		return nil
	}
}

// basePolicy is the source policy denying every image but patterns, or nil
// for no patterns. BuildKit applies the last rule that matches, so the deny
// of everything comes first.
func basePolicy(patterns []string) (*spb.Policy, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	rules := []*spb.Rule{{
		Action:   spb.PolicyAction_DENY,
		Selector: &spb.Selector{Identifier: imageScheme + "*", MatchType: spb.MatchType_WILDCARD},
	}}
	for _, p := range patterns {
		if err := checkPattern(p); err != nil {
			return nil, err
		}
		rules = append(rules, &spb.Rule{
			Action:   spb.PolicyAction_ALLOW,
			Selector: &spb.Selector{Identifier: imageScheme + p, MatchType: spb.MatchType_WILDCARD},
		})
	}
	return &spb.Policy{Version: 1, Rules: rules}, nil
}

// imageScheme prefixes the identifier of an image source in BuildKit.
const imageScheme = "docker-image://"

// checkPattern rejects an allowed-image pattern that could never match a
// normalised reference: one without its registry ("busybox*" never matches
// "docker.io/library/busybox:latest") or, without a wildcard, without its
// tag.
func checkPattern(p string) error {
	prefix, _, wild := strings.Cut(p, "*")
	host, _, ok := strings.Cut(prefix, "/")
	switch {
	case strings.Contains(p, "**") || strings.ContainsAny(p, " \t\n"):
		return fmt.Errorf("allowed base image %q: want a reference with single '*' wildcards", p)
	case !ok || !strings.ContainsAny(host, ".:") && host != "localhost":
		return fmt.Errorf("allowed base image %q: start with the registry, e.g. docker.io/library/%s", p, p)
	case wild:
		return nil
	}
	named, err := reference.ParseNormalizedNamed(p)
	if err != nil {
		return fmt.Errorf("allowed base image %q: %w", p, err)
	}
	if want := reference.TagNameOnly(named).String(); want != p {
		return fmt.Errorf("allowed base image %q: write it as BuildKit names it, %q", p, want)
	}
	return nil
}
