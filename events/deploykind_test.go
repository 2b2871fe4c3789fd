package events_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// TestDeployKindVocabulary: every kind has one word, read back as itself;
// an unknown word is refused, not taken for a kind.
func TestDeployKindVocabulary(t *testing.T) {
	tests := []struct {
		kind       events.DeployKind
		word       string
		deliberate bool
		nonce      string
	}{
		{events.KindUnknown, "", false, ""},
		{events.KindAuto, "auto", false, ""},
		{events.KindRelease, "release", true, "release-x1"},
		{events.KindRollback, "rollback", true, "rollback-x1"},
		{events.KindReplay, "replay", true, "replay-x1"},
		{events.KindPreview, "preview", true, "preview-x1"},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			b, err := json.Marshal(struct {
				K events.DeployKind `json:"k"`
			}{tt.kind})
			if err != nil || string(b) != `{"k":"`+tt.word+`"}` {
				t.Fatalf("Marshal(%d) = %s, %v; want the word %q", tt.kind, b, err, tt.word)
			}
			var back struct {
				K events.DeployKind `json:"k"`
			}
			if err := json.Unmarshal(b, &back); err != nil || back.K != tt.kind {
				t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back.K, err, tt.kind)
			}
			if tt.kind.String() != tt.word || tt.kind.Deliberate() != tt.deliberate || tt.kind.Nonce("x1") != tt.nonce {
				t.Errorf("%q: String %q, Deliberate %v, Nonce %q; want %q, %v, %q", tt.word, tt.kind, tt.kind.Deliberate(),
					tt.kind.Nonce("x1"), tt.word, tt.deliberate, tt.nonce)
			}
		})
	}
	for _, word := range []string{"Auto", "rollback-1", "redeploy", "deployed"} {
		var k events.DeployKind
		if err := json.Unmarshal([]byte(`"`+word+`"`), &k); err == nil {
			t.Errorf("Unmarshal(%q) = %v, want an error", word, k)
		}
	}
	if _, err := json.Marshal(events.DeployKind(200)); err == nil {
		t.Error("Marshal(DeployKind(200)) succeeded")
	}
}

// TestDeployOutcomeVocabulary: every outcome has one word; "deployed", the
// word deploy claims of earlier versions hold, reads as succeeded.
func TestDeployOutcomeVocabulary(t *testing.T) {
	tests := []struct {
		outcome events.DeployOutcome
		word    string
		event   string
	}{
		{events.OutcomeUnknown, "", ""},
		{events.OutcomeSucceeded, "succeeded", events.TypeDeploySucceeded},
		{events.OutcomeFailed, "failed", events.TypeDeployFailed},
		{events.OutcomeSuperseded, "superseded", events.TypeDeploySuperseded},
		{events.OutcomeUnchanged, "unchanged", ""},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			b, err := tt.outcome.MarshalText()
			if err != nil || string(b) != tt.word || tt.outcome.String() != tt.word {
				t.Fatalf("MarshalText(%d) = %q, %v; want %q", tt.outcome, b, err, tt.word)
			}
			var back events.DeployOutcome
			if err := back.UnmarshalText(b); err != nil || back != tt.outcome {
				t.Errorf("UnmarshalText(%q) = %v, %v", b, back, err)
			}
			got := ""
			if ev := (events.DeployResult{Outcome: tt.outcome}).Event(); ev != nil {
				got = ev.EventType()
			}
			if got != tt.event {
				t.Errorf("Event() of %q is %q, want %q", tt.word, got, tt.event)
			}
		})
	}
	var o events.DeployOutcome
	if err := o.UnmarshalText([]byte("deployed")); err != nil || o != events.OutcomeSucceeded {
		t.Errorf(`UnmarshalText("deployed") = %v, %v; want succeeded`, o, err)
	}
	if err := o.UnmarshalText([]byte("ok")); err == nil {
		t.Errorf(`UnmarshalText("ok") = %v, want an error`, o)
	}
}

// TestDecodeEarlierVersions reads the deploy events of testdata/v1, as
// versions before kinds and outcomes were fields stored them: each comes
// out with the kind its nonce named and the outcome of its type.
func TestDecodeEarlierVersions(t *testing.T) {
	tests := []struct {
		file, typ   string
		wantKind    events.DeployKind
		wantOutcome events.DeployOutcome
		wantActor   string
	}{
		{"deploy_requested", events.TypeDeployRequested, events.KindAuto, events.OutcomeUnknown, "slipway"},
		{"deploy_requested_rollback", events.TypeDeployRequested, events.KindRollback, events.OutcomeUnknown, "ada"},
		{"deploy_succeeded", events.TypeDeploySucceeded, events.KindAuto, events.OutcomeSucceeded, "slipway"},
		{"deploy_succeeded_rollback", events.TypeDeploySucceeded, events.KindRollback, events.OutcomeSucceeded, "ada"},
		{"deploy_failed", events.TypeDeployFailed, events.KindAuto, events.OutcomeFailed, "slipway"},
		{"deploy_superseded", events.TypeDeploySuperseded, events.KindAuto, events.OutcomeSuperseded, "slipway"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "v1", tt.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := events.Envelope{ID: tt.file, Type: tt.typ, Data: data}.Decode()
			if err != nil {
				t.Fatal(err)
			}
			var kind events.DeployKind
			var outcome events.DeployOutcome
			var actor string
			if req, ok := ev.(*events.DeployRequested); ok {
				kind, actor = req.Kind, req.Actor
				if req.Deliberate() != tt.wantKind.Deliberate() {
					t.Errorf("Deliberate() = %v, want %v", req.Deliberate(), tt.wantKind.Deliberate())
				}
			} else if r, ok := events.ResultOf(ev); ok {
				kind, outcome, actor = r.Kind, r.Outcome, r.Actor
			}
			if kind != tt.wantKind || outcome != tt.wantOutcome || actor != tt.wantActor {
				t.Errorf("decoded kind %q, outcome %q, actor %q; want %q, %q, %q", kind, outcome, actor, tt.wantKind, tt.wantOutcome, tt.wantActor)
			}
		})
	}
}

// TestDecodeEarlierVersionsRanLocally: a deploy event of a version before
// targets names none, and ran on the local daemon; Result carries a
// request's target to its result.
func TestDecodeEarlierVersionsRanLocally(t *testing.T) {
	for _, f := range []struct{ file, typ string }{{"deploy_requested", events.TypeDeployRequested}, {"deploy_succeeded", events.TypeDeploySucceeded}} {
		data, err := os.ReadFile(filepath.Join("testdata", "v1", f.file+".json"))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := events.Envelope{ID: f.file, Type: f.typ, Data: data}.Decode()
		if err != nil {
			t.Fatal(err)
		}
		name := ""
		if req, ok := ev.(*events.DeployRequested); ok {
			name = req.Target
		} else if r, ok := events.ResultOf(ev); ok {
			name = r.Target
		}
		if name != "" || events.TargetName(name) != events.LocalTarget {
			t.Errorf("%s: target %q (%s), want none: local", f.file, name, events.TargetName(name))
		}
	}
	req := &events.DeployRequested{Env: "production", Commit: "c", Target: "prod-hosts"}
	if r := req.Result(events.OutcomeSucceeded, "", time.Time{}); r.Target != "prod-hosts" {
		t.Errorf("Result().Target = %q, want prod-hosts", r.Target)
	}
}

// TestDecodeLegacyKindFromRequestID: a result written before kinds were
// fields gets its kind from its request's id, whatever the repository and
// the environment are called.
func TestDecodeLegacyKindFromRequestID(t *testing.T) {
	const c1 = "1111111111111111111111111111111111111111"
	for request, want := range map[string]events.DeployKind{
		events.DeployKey("acme/shop", "s", c1, ""):             events.KindAuto,
		events.DeployKey("acme/shop", "s", c1, "release-abc"):  events.KindRelease,
		events.DeployKey("acme/shop", "s", c1, "rollback-abc"): events.KindRollback,
		events.DeployKey("acme/shop", "s", c1, "replay-abc"):   events.KindReplay,
		events.DeployKey("acme/shop", "pr-1", c1, "preview-2"): events.KindPreview,
		events.DeployKey("acme/shop", "release-x", c1, ""):     events.KindAuto,
		events.DeployKey("release-x/rollback-y", "s", c1, ""):  events.KindAuto,
		events.DeployKey("acme/shop", "s", c1, "scale"):        events.KindAuto,
		// ids of the versions before environments were scoped by repository
		"deploy.s." + c1:                   events.KindAuto,
		"deploy.s." + c1 + ".rollback-abc": events.KindRollback,
		"deploy.pr-1." + c1 + ".preview-2": events.KindPreview,
	} {
		data, _ := json.Marshal(map[string]string{"request": request})
		ev, err := events.Envelope{ID: request + ".succeeded", Type: events.TypeDeploySucceeded, Data: data}.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := events.ResultOf(ev); r.Kind != want {
			t.Errorf("kind of %s = %q, want %q", request, r.Kind, want)
		}
	}
}

// TestDecodeKindFromField: a result that has a kind keeps it, whatever its
// id says, and a result whose outcome is not its type's is refused.
func TestDecodeKindFromField(t *testing.T) {
	const c1 = "1111111111111111111111111111111111111111"
	data := `{"commit":"` + c1 + `","kind":"auto","request":"` + events.DeployKey("acme/shop", "s", c1, "rollback-abc") + `"}`
	ev, err := events.Envelope{Type: events.TypeDeploySucceeded, Data: []byte(data)}.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := events.ResultOf(ev); r.Kind != events.KindAuto {
		t.Errorf("kind = %q, want the field's auto", r.Kind)
	}
	for _, data := range []string{`{"outcome":"failed"}`, `{"kind":"redeploy"}`} {
		if _, err := (events.Envelope{Type: events.TypeDeploySucceeded, Data: []byte(data)}).Decode(); !events.IsPermanent(err) {
			t.Errorf("Decode(deploy.succeeded %s) error = %v, want a permanent error", data, err)
		}
	}
}
