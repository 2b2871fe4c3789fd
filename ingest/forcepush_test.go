package ingest

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/slipway-dev/slipway/events"
)

// githubPush is the corpus push of woodpecker-ci/woodpecker moved to go
// from before to after, delivered with id.
func githubPush(tb testing.TB, before, after, id string, forced bool) delivery {
	tb.Helper()
	body := MustReadFixture(tb, "push-main-1commit.json")
	body = bytes.Replace(body, []byte(`"before": "2f780193b136b72bfea4eeb640786a8c4450c7a2"`), []byte(`"before": "`+before+`"`), 1)
	body = bytes.Replace(body, []byte(`"after": "366701fde727cb7a9e7f21eb88264f59f6f9b89c"`), []byte(`"after": "`+after+`"`), 1)
	if forced {
		body = bytes.Replace(body, []byte(`"forced": false`), []byte(`"forced": true`), 1)
	}
	d := githubDelivery("push", body, secretOld)
	d.header["X-GitHub-Delivery"] = id
	return d
}

// TestJetStreamForcePushBack moves main from A to B, then force-pushes it
// back to A within the duplicate window: both moves are published (the
// second one used to be answered as a duplicate of the first push of A),
// while the host redelivering the force-push, or a replay of it under a new
// delivery id, publishes nothing.
func TestJetStreamForcePushBack(t *testing.T) {
	const z, a, b = "2f780193b136b72bfea4eeb640786a8c4450c7a2", "366701fde727cb7a9e7f21eb88264f59f6f9b89c", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	s := mustStack(t, jetstreamConfig())
	steps := []struct {
		name          string
		req           delivery
		wantDuplicate bool
		wantStored    int
	}{
		{"push of A", githubPush(t, z, a, "d-1", false), false, 1},
		{"push A→B", githubPush(t, a, b, "d-2", false), false, 2},
		{"force-push B→A", githubPush(t, b, a, "d-3", true), false, 3},
		{"the host redelivers the force-push", githubPush(t, b, a, "d-3", true), true, 3},
		{"a replay of the force-push under a new delivery id", githubPush(t, b, a, "d-4", true), true, 3},
	}
	for _, st := range steps {
		status, got := s.send(t, st.req)
		if status != http.StatusAccepted || got.Duplicate != st.wantDuplicate {
			t.Errorf("%s: %d %+v, want 202 duplicate=%v", st.name, status, got, st.wantDuplicate)
		}
		if n := len(s.stored(t)); n != st.wantStored {
			t.Errorf("%s: stream holds %d events, want %d", st.name, n, st.wantStored)
		}
	}
	stored := s.stored(t)
	e, err := stored[len(stored)-1].Decode()
	if err != nil {
		t.Fatal(err)
	}
	if p := e.(*events.PushReceived); p.Before != b || p.After != a || !p.Forced {
		t.Errorf("last stored push %s→%s forced=%v, want %s→%s forced", p.Before, p.After, p.Forced, b, a)
	}
}

// TestJetStreamRepositoryCase delivers one push twice, naming the
// repository in two spellings the host treats as one: it verifies with the
// repository's secret both times, and the second is a duplicate.
func TestJetStreamRepositoryCase(t *testing.T) {
	s := mustStack(t, jetstreamConfig())
	push := MustReadFixture(t, "push-main-1commit.json")
	upper := bytes.Replace(push, []byte(`"full_name": "woodpecker-ci/woodpecker"`), []byte(`"full_name": "Woodpecker-CI/Woodpecker"`), 1)
	for i, body := range [][]byte{push, upper} {
		d := githubDelivery("push", body, secretOld)
		d.header["X-GitHub-Delivery"] = []string{"case-1", "case-2"}[i]
		status, got := s.send(t, d)
		if status != http.StatusAccepted || got.Duplicate != (i == 1) {
			t.Errorf("delivery %d: %d %+v, want 202 duplicate=%v", i+1, status, got, i == 1)
		}
	}
	if n := len(s.stored(t)); n != 1 {
		t.Errorf("stream holds %d events, want 1", n)
	}
}

// TestJetStreamRefusesBadRefsAndHosts sends signed pushes of refs git
// refuses (or would read as an option) and of a clone URL whose ssh host is
// an option: each is 400 and nothing is published.
func TestJetStreamRefusesBadRefsAndHosts(t *testing.T) {
	s := mustStack(t, jetstreamConfig())
	push := MustReadFixture(t, "push-main-1commit.json")
	withRef := func(ref string) []byte {
		return bytes.Replace(push, []byte(`"ref": "refs/heads/main"`), []byte(`"ref": "`+ref+`"`), 1)
	}
	bodies := map[string][]byte{
		"option as a branch": withRef("refs/heads/--upload-pack=touch${IFS}pwned"),
		"dot dot":            withRef("refs/heads/a..b"),
		"invalid utf-8":      withRef("refs/heads/\xff\xfe"),
		"ssh host option": bytes.Replace(push, []byte(`"clone_url": "https://github.com/woodpecker-ci/woodpecker.git"`),
			[]byte(`"clone_url": "ssh://x@-oProxyCommand=sh/a/b.git"`), 1),
	}
	for name, body := range bodies {
		if bytes.Equal(body, push) {
			t.Fatalf("%s: the fixture did not change", name)
		}
		status, got := s.send(t, githubDelivery("push", body, secretOld))
		if status != http.StatusBadRequest || got.Error != "malformed payload" {
			t.Errorf("%s: %d %+v, want 400 malformed payload", name, status, got)
		}
	}
	if n := len(s.stored(t)); n != 0 {
		t.Errorf("stream holds %d events, want none", n)
	}
}
