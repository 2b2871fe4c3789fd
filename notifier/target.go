package notifier

import (
	"fmt"
	"net/url"
	"strings"
)

// Format is the body a receiver gets.
type Format string

// The formats of notifications.
const (
	// FormatSlack is a Slack incoming-webhook body ({"text": ...}, with
	// blocks), which Mattermost, Rocket.Chat and Discord's /slack accept.
	FormatSlack Format = "slack"
	// FormatCloudEvents is a CloudEvents 1.0 event in binary mode: ce-*
	// headers and the JSON data as the body.
	FormatCloudEvents Format = "cloudevents"
)

// Target is one receiver of notifications.
type Target struct {
	URL    string
	Format Format
	// Secret keys the signature header; empty sends none.
	Secret string
}

// ParseTarget parses "[format=]URL" (cloudevents when no format is
// given).
func ParseTarget(s string) (Target, error) {
	t := Target{URL: s, Format: FormatCloudEvents}
	if f, rest, ok := strings.Cut(s, "="); ok && !strings.Contains(f, "/") && !strings.Contains(f, ":") {
		t.Format, t.URL = Format(f), rest
	}
	switch t.Format {
	case FormatSlack, FormatCloudEvents:
	default:
		return Target{}, fmt.Errorf("notify target %q: format %q: want slack or cloudevents", Redact(t.URL), t.Format)
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Target{}, fmt.Errorf("notify target %q: want an http or https URL", Redact(t.URL))
	}
	return t, nil
}

// Redact returns u without credentials, path or query (a Slack webhook's
// path is its secret).
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(unparsable URL)"
	}
	return p.Scheme + "://" + p.Host + "/…"
}
