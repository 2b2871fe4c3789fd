package buildlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/buildkit"
	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/buildlog"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/build"
)

const repoName = "acme/shop"

func mustJetStream(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	s := natsjs.MustServer(tb)
	_, js := natsjs.MustJetStream(tb, s.ClientURL())
	return js
}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tb.Cleanup(cancel)
	return zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.InfoLevel).WithContext(ctx)
}

// buildAndAnnounce runs a real BuildKit build with its log, then
// publishes its result the way the build workflow does: the log's end,
// then the event.
func buildAndAnnounce(ctx context.Context, tb testing.TB, js jetstream.JetStream, sha, dockerfile string) error {
	tb.Helper()
	addr := buildkittest.MustBuildkit(tb)
	registry := buildkittest.MustRegistry(tb)
	base := buildkittest.MustBaseImage(tb, registry)
	b, err := buildkit.New(ctx, addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer b.Close()
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\n"+dockerfile), 0o644); err != nil {
		tb.Fatal(err)
	}
	repo := buildkittest.UniqueRepo(tb)
	log, end := (&buildlog.Logs{JS: js}).Open(ctx, repoName, sha, "web")
	res, err := b.Build(ctx, build.Request{ContextDir: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
		Image: registry + "/" + repo + ":" + sha[:12], Log: log})
	var ev events.Event = &events.BuildSucceeded{Repo: events.Repo{FullName: repoName}, Commit: sha, Service: "web", Digest: res.Digest}
	if err != nil {
		end("failed")
		ev = &events.BuildFailed{Repo: events.Repo{FullName: repoName}, Commit: sha, Service: "web", Reason: err.Error()}
	} else {
		end("succeeded")
	}
	if _, perr := natsjs.NewPublisher(js, "/test").Publish(ctx, ev); perr != nil {
		tb.Fatal(perr)
	}
	return err
}

// TestFollowSeesLinesWhileTheBuildRuns follows a real BuildKit build whose
// RUN prints a line a second: the first line arrives before the
// build-succeeded event is stored, the follow ends with the build, and
// the whole log is there afterwards.
func TestFollowSeesLinesWhileTheBuildRuns(t *testing.T) {
	js := mustJetStream(t)
	ctx := testContext(t)
	sha := fmt.Sprintf("%040x", time.Now().UnixNano())
	followed := make(chan []buildlog.Record, 1)
	firstLine := make(chan bool, 1) // whether the event was stored when the first line came
	go func() {
		var got []buildlog.Record
		err := buildlog.Follow(ctx, js, repoName, sha, "web", func(r buildlog.Record) {
			if r.Kind == buildlog.KindLine && strings.Contains(r.Text, "tick 1") {
				_, err := lastEvent(ctx, js, events.SubjectBuildSucceeded)
				firstLine <- err == nil
			}
			got = append(got, r)
		})
		if err != nil {
			t.Error(err)
		}
		followed <- got
	}()
	// The commit in the step keeps BuildKit's cache from answering it.
	if err := buildAndAnnounce(ctx, t, js, sha, "RUN echo "+sha+" && for i in 1 2 3 4; do echo \"tick $i\"; sleep 1; done\n"); err != nil {
		t.Fatal(err)
	}
	got := <-followed
	select {
	case stored := <-firstLine:
		if stored {
			t.Error("the first line came after the build-succeeded event was stored")
		}
	default:
		t.Fatalf("no line followed: %+v", got)
	}
	if last := got[len(got)-1]; last.Kind != buildlog.KindEnd || last.Result != "succeeded" {
		t.Errorf("follow ended with %+v, want the end record", last)
	}
	log, err := buildlog.Read(ctx, js, repoName, sha, "web")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	steps := 0
	for _, r := range log {
		switch r.Kind {
		case buildlog.KindLine:
			lines = append(lines, r.Text)
		case buildlog.KindStep:
			if strings.Contains(r.Step, "RUN echo "+sha) {
				steps++
			}
		}
	}
	if want := sha + "|tick 1|tick 2|tick 3|tick 4"; strings.Join(lines, "|") != want {
		t.Errorf("log lines = %q, want %s", lines, want)
	}
	if steps != 2 || log[0].Kind != buildlog.KindBegin {
		t.Errorf("log = %+v, want begin, then the RUN step started and done", log)
	}
}

// TestFailedBuildLogEndsFailed: a RUN that fails leaves its output and a
// failed end in the log.
func TestFailedBuildLogEndsFailed(t *testing.T) {
	js := mustJetStream(t)
	ctx := testContext(t)
	sha := fmt.Sprintf("%040x", time.Now().UnixNano())
	err := buildAndAnnounce(ctx, t, js, sha, "RUN echo about to fail "+sha+" && exit 3\n")
	var se *buildkit.StepError
	if !errors.As(err, &se) {
		t.Fatalf("build: %v, want a step error", err)
	}
	log, err := buildlog.Read(ctx, js, repoName, sha, "web")
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(log)
	if !strings.Contains(text, "about to fail") || log[len(log)-1].Result != "failed" {
		t.Errorf("log = %s", text)
	}
}

// TestLogIsBounded writes more lines than a log holds: one truncation
// record, the end still recorded, a new attempt read alone.
func TestLogIsBounded(t *testing.T) {
	js := mustJetStream(t)
	ctx := testContext(t)
	logs := &buildlog.Logs{JS: js, MaxLines: 5, MaxBytes: 1 << 20}
	for attempt := range 2 {
		w, end := logs.Open(ctx, repoName, "abc", "web")
		w.Step("[1/1] RUN x", "started")
		for i := range 20 {
			w.Line("[1/1] RUN x", fmt.Sprintf("attempt %d line %d", attempt, i))
		}
		end("failed")
	}
	log, err := buildlog.Read(ctx, js, repoName, "abc", "web")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range log {
		kinds = append(kinds, string(r.Kind))
		if r.Kind == buildlog.KindLine && !strings.HasPrefix(r.Text, "attempt 1 ") {
			t.Errorf("line of an earlier attempt: %q", r.Text)
		}
	}
	if want := "begin step line line line line line truncated end"; strings.Join(kinds, " ") != want {
		t.Errorf("records = %s, want %s", strings.Join(kinds, " "), want)
	}
	if _, err := buildlog.Read(ctx, js, repoName, "abc", "api"); !errors.Is(err, buildlog.ErrNoLog) {
		t.Errorf("log of a build never run: %v, want ErrNoLog", err)
	}
}

func lastEvent(ctx context.Context, js jetstream.JetStream, subject string) (*jetstream.RawStreamMsg, error) {
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		return nil, err
	}
	return s.GetLastMsgForSubject(ctx, subject)
}
