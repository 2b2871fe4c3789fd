package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// corpusDir is the shared corpus of real payloads; every file of it has a
// byte-for-byte copy in a forge's testdata.
const corpusDir = "../../shared/webhooks"

var secretCorpus = []byte("corpus-secret-never-logged")

// corpusFile is one payload of the corpus and how its host delivers it.
type corpusFile struct {
	host  string // directory under corpusDir
	file  string // name in corpusDir/host
	route string // /webhooks/<route>
	event string // the event header, if the host sends one
}

// corpus lists the 78 payloads of ../shared/webhooks (INDEX.md) with the
// event header each was delivered with.
var corpus = []corpusFile{
	{"github", "push-branch-1commit.json", "github", "push"},
	{"github", "push-main-1commit.json", "github", "push"},
	{"github", "push-multi-commit-merge.json", "github", "push"},
	{"github", "push-forced.json", "github", "push"},
	{"github", "push-branch-created.json", "github", "push"},
	{"github", "push-branch-deleted.json", "github", "push"},
	{"github", "push-tag-created.json", "github", "push"},
	{"github", "push-tag-deleted.json", "github", "push"},
	{"github", "ping.json", "github", "ping"},
	{"github", "ping.octokit.json", "github", "ping"},
	{"github", "pull_request-opened.json", "github", "pull_request"},
	{"github", "pull_request-synchronize.json", "github", "pull_request"},
	{"github", "pull_request-synchronize-fork.json", "github", "pull_request"},
	{"github", "pull_request-synchronize.octokit.json", "github", "pull_request"},
	{"github", "pull_request-closed-merged.json", "github", "pull_request"},
	{"github", "pull_request-closed-merged.woodpecker.json", "github", "pull_request"},
	{"github", "pull_request-closed-unmerged.json", "github", "pull_request"},
	{"github", "pull_request-reopened.json", "github", "pull_request"},
	{"github", "create-tag.json", "github", "create"},
	{"github", "delete-branch.json", "github", "delete"},
	{"gitea", "push-1commit.json", "gitea", "push"},
	{"gitea", "push-multi-commit.json", "gitea", "push"},
	{"gitea", "forgejo-push-multi-commit.json", "forgejo", "push"},
	{"gitea", "push-branch-created.json", "gitea", "push"},
	{"gitea", "push-new-branch-initial.json", "gitea", "push"},
	{"gitea", "create-branch.json", "gitea", "create"},
	{"gitea", "create-tag.json", "gitea", "create"},
	{"gitea", "delete-branch.json", "gitea", "delete"},
	{"gitea", "pull_request-opened.json", "gitea", "pull_request"},
	{"gitea", "pull_request-synchronized.json", "gitea", "pull_request"},
	{"gitea", "pull_request-reopened.json", "gitea", "pull_request"},
	{"gitea", "pull_request-closed-merged.json", "gitea", "pull_request"},
	{"gitea", "pull_request-closed-unmerged.json", "gitea", "pull_request"},
	{"gogs", "push.json", "gogs", "push"},
	{"gogs", "pull_request-opened.json", "gogs", "pull_request"},
	{"gogs", "pull_request-synchronized.json", "gogs", "pull_request"},
	{"gogs", "pull_request-closed.json", "gogs", "pull_request"},
	{"gitlab", "push-1commit.json", "gitlab", "Push Hook"},
	{"gitlab", "push-branch-created.json", "gitlab", "Push Hook"},
	{"gitlab", "push-branch-deleted.json", "gitlab", "Push Hook"},
	{"gitlab", "push-merge-2commits.json", "gitlab", "Push Hook"},
	{"gitlab", "push-multi-commit.json", "gitlab", "Push Hook"},
	{"gitlab", "tag_push-created.json", "gitlab", "Tag Push Hook"},
	{"gitlab", "tag_push-created.woodpecker.json", "gitlab", "Tag Push Hook"},
	{"gitlab", "tag_push-deleted.json", "gitlab", "Tag Push Hook"},
	{"gitlab", "merge_request-open.json", "gitlab", "Merge Request Hook"},
	{"gitlab", "merge_request-open.docs.json", "gitlab", "Merge Request Hook"},
	{"gitlab", "merge_request-update-new-commits.json", "gitlab", "Merge Request Hook"},
	{"gitlab", "merge_request-update-new-commits.go-gitlab.json", "gitlab", "Merge Request Hook"},
	{"gitlab", "merge_request-update-no-code-change.json", "gitlab", "Merge Request Hook"},
	{"gitlab", "merge_request-merge.json", "gitlab", "Merge Request Hook"},
	{"gitlab", "merge_request-close.json", "gitlab", "Merge Request Hook"},
	{"gitlab", "merge_request-reopen.json", "gitlab", "Merge Request Hook"},
	{"bitbucket", "repo-push.json", "bitbucket", "repo:push"},
	{"bitbucket", "repo-push-1commit.json", "bitbucket", "repo:push"},
	{"bitbucket", "repo-push-branch-created.json", "bitbucket", "repo:push"},
	{"bitbucket", "repo-push-branch-deleted.json", "bitbucket", "repo:push"},
	{"bitbucket", "repo-push-tag-created.json", "bitbucket", "repo:push"},
	{"bitbucket", "repo-push-tag-deleted.json", "bitbucket", "repo:push"},
	{"bitbucket", "pullrequest-created.json", "bitbucket", "pullrequest:created"},
	{"bitbucket", "pullrequest-updated.json", "bitbucket", "pullrequest:updated"},
	{"bitbucket", "pullrequest-fulfilled.json", "bitbucket", "pullrequest:fulfilled"},
	{"bitbucket", "pullrequest-fulfilled.woodpecker.json", "bitbucket", "pullrequest:fulfilled"},
	{"bitbucket", "pullrequest-rejected.json", "bitbucket", "pullrequest:rejected"},
	{"bitbucket", "pullrequest-rejected.woodpecker.json", "bitbucket", "pullrequest:rejected"},
	{"bitbucket", "server-refs_changed-update.json", "bitbucketserver", "repo:refs_changed"},
	{"bitbucket", "server-refs_changed-branch-add.json", "bitbucketserver", "repo:refs_changed"},
	{"bitbucket", "server-refs_changed-branch-delete.json", "bitbucketserver", "repo:refs_changed"},
	{"bitbucket", "server-refs_changed-tag-add.json", "bitbucketserver", "repo:refs_changed"},
	{"bitbucket", "server-refs_changed-tag-delete.json", "bitbucketserver", "repo:refs_changed"},
	{"bitbucket", "server-pr-opened.json", "bitbucketserver", "pr:opened"},
	{"bitbucket", "server-pr-from_ref_updated.json", "bitbucketserver", "pr:from_ref_updated"},
	{"bitbucket", "server-pr-merged.json", "bitbucketserver", "pr:merged"},
	{"bitbucket", "server-pr-declined.json", "bitbucketserver", "pr:declined"},
	{"azure-devops", "git.push.json", "azuredevops", ""},
	{"azure-devops", "git.pullrequest.created.json", "azuredevops", ""},
	{"azure-devops", "git.pullrequest.updated.json", "azuredevops", ""},
	{"azure-devops", "git.pullrequest.merged.json", "azuredevops", ""},
}

// copyPath is where the forge package keeps its byte-for-byte copy of f.
func (f corpusFile) copyPath() string {
	switch {
	case f.host == "gogs":
		return filepath.Join("..", "forge", "gitea", "testdata", "gogs-"+f.file)
	case f.route == "forgejo":
		return filepath.Join("..", "forge", "gitea", "testdata", f.file)
	case f.host == "azure-devops":
		return filepath.Join("..", "forge", "azuredevops", "testdata", f.file)
	}
	return filepath.Join("..", "forge", f.route, "testdata", f.file)
}

// request returns the delivery of body the way its host sends it, signed or
// authenticated with secret.
func (f corpusFile) request(tb testing.TB, body, secret []byte) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhooks/"+f.route, bytes.NewReader(body))
	for k, v := range f.header(tb, body, secret) {
		r.Header[k] = v
	}
	return r.WithContext(zerolog.Nop().WithContext(r.Context()))
}

func (f corpusFile) header(tb testing.TB, body, secret []byte) http.Header {
	id := "corpus-" + f.host + "-" + f.file
	hexSig := hex.EncodeToString(forge.SignHMACSHA256(body, secret))
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	switch f.route {
	case "github":
		h = f.capturedHeader(tb, h)
		h.Set("X-GitHub-Event", f.event)
		if h.Get("X-GitHub-Delivery") == "" {
			h.Set("X-GitHub-Delivery", id)
		}
		h.Set("X-Hub-Signature-256", "sha256="+hexSig)
		h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(forge.SignHMACSHA1(body, secret)))
	case "gitea", "forgejo":
		// Gitea sends its headers, Gogs' and GitHub's; Forgejo adds its own.
		prefixes := []string{"X-Gitea", "X-Gogs", "X-GitHub"}
		if f.route == "forgejo" {
			prefixes = append(prefixes, "X-Forgejo")
		}
		for _, p := range prefixes {
			h.Set(p+"-Event", f.event)
			h.Set(p+"-Delivery", id)
			if p != "X-GitHub" {
				h.Set(p+"-Signature", hexSig)
			}
		}
		h.Set("X-Hub-Signature-256", "sha256="+hexSig)
	case "gogs":
		h.Set("X-Gogs-Event", f.event)
		h.Set("X-Gogs-Delivery", id)
		h.Set("X-Gogs-Signature", hexSig)
	case "gitlab":
		h.Set("X-Gitlab-Event", f.event)
		h.Set("X-Gitlab-Token", string(secret))
		h.Set("X-Gitlab-Event-UUID", id+"-uuid")
		h.Set("Idempotency-Key", id)
	case "bitbucket":
		h.Set("X-Event-Key", f.event)
		h.Set("X-Request-UUID", id)
		h.Set("X-Hook-UUID", "{corpus-hook}")
		h.Set("X-Attempt-Number", "1")
		h.Set("X-Hub-Signature", "sha256="+hexSig)
	case "bitbucketserver":
		h.Set("X-Event-Key", f.event)
		h.Set("X-Request-Id", id)
		h.Set("X-Hub-Signature", "sha256="+hexSig)
	case "azuredevops":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(append([]byte("slipway:"), secret...)))
	default:
		tb.Fatalf("no headers for route %s", f.route)
	}
	return h
}

// capturedHeader adds the headers GitHub really sent with the payload, when
// they were captured, leaving out those of the capture's transport.
func (f corpusFile) capturedHeader(tb testing.TB, h http.Header) http.Header {
	path := filepath.Join("..", "forge", "github", "testdata", strings.TrimSuffix(f.file, ".json")+".headers.json")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return h
	}
	var m map[string]string
	if err != nil || json.Unmarshal(b, &m) != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	for k, v := range m {
		switch strings.ToLower(k) {
		case "content-length", "host", "connection", "x-forwarded-for":
		default:
			h.Set(k, v)
		}
	}
	return h
}

// corpusOutcome is the golden record of one corpus delivery.
type corpusOutcome struct {
	File      string          `json:"file"`
	Route     string          `json:"route"`
	Status    int             `json:"status"`
	Answer    json.RawMessage `json:"answer"`
	Published []published     `json:"published,omitempty"`
}

type published struct {
	Type    string       `json:"type"`
	Subject string       `json:"subject"`
	ID      string       `json:"id"`
	Event   events.Event `json:"event"`
}

// TestCorpus delivers every payload of the corpus, signed as its host signs
// it, to the handler and compares what it answered and published with
// testdata/corpus.golden.json.
func TestCorpus(t *testing.T) {
	cfg := Config{AllowUnknownRepos: true, FallbackSecrets: [][]byte{secretCorpus}, DefaultBranch: "main"}
	var outcomes []corpusOutcome
	for _, f := range corpus {
		body := forgetestRead(t, f.copyPath())
		pub := &stubPublisher{}
		rec := httptest.NewRecorder()
		MustNewHandler(t, cfg, pub).ServeHTTP(rec, f.request(t, body, secretCorpus))
		o := corpusOutcome{File: f.host + "/" + f.file, Route: f.route, Status: rec.Code, Answer: bytes.TrimSpace(rec.Body.Bytes())}
		for _, e := range pub.published() {
			o.Published = append(o.Published, published{Type: e.EventType(), Subject: e.Subject(), ID: e.DedupKey(), Event: e})
		}
		if rec.Code >= 300 {
			t.Errorf("%s: status %d: %s", o.File, rec.Code, rec.Body)
		}
		outcomes = append(outcomes, o)
	}
	if len(outcomes) != 78 {
		t.Errorf("%d payloads delivered, the corpus has 78", len(outcomes))
	}
	mustMatchGolden(t, filepath.Join("testdata", "corpus.golden.json"), mustJSON(t, outcomes))
}

// TestCorpusUnsigned checks that no payload of the corpus is accepted with a
// wrong secret, and that nothing is published then.
func TestCorpusUnsigned(t *testing.T) {
	cfg := Config{AllowUnknownRepos: true, FallbackSecrets: [][]byte{secretCorpus}}
	for _, f := range corpus {
		pub := &stubPublisher{}
		rec := httptest.NewRecorder()
		MustNewHandler(t, cfg, pub).ServeHTTP(rec, f.request(t, forgetestRead(t, f.copyPath()), []byte("guessed")))
		if rec.Code != http.StatusUnauthorized || len(pub.published()) != 0 {
			t.Errorf("%s/%s with a wrong secret: status %d, %d published", f.host, f.file, rec.Code, len(pub.published()))
		}
	}
}

// TestCorpusCopies checks that the table covers every payload of the shared
// corpus and that each forge's copy is byte for byte the corpus file. The
// corpus lives outside the repository; without it only the copies are used.
func TestCorpusCopies(t *testing.T) {
	var files []string
	for _, host := range []string{"github", "gitea", "gogs", "gitlab", "bitbucket", "azure-devops"} {
		matches, err := filepath.Glob(filepath.Join(corpusDir, host, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			if !strings.HasSuffix(m, ".headers.json") {
				files = append(files, host+"/"+filepath.Base(m))
			}
		}
	}
	if len(files) == 0 {
		t.Skipf("no corpus at %s: the forges' copies are the reference", corpusDir)
	}
	listed := map[string]corpusFile{}
	for _, f := range corpus {
		listed[f.host+"/"+f.file] = f
	}
	for _, name := range files {
		f, ok := listed[name]
		if !ok {
			t.Errorf("%s is not in the corpus table", name)
			continue
		}
		orig := forgetestRead(t, filepath.Join(corpusDir, name))
		if !bytes.Equal(orig, forgetestRead(t, f.copyPath())) {
			t.Errorf("%s differs from %s", f.copyPath(), name)
		}
	}
	if len(files) != len(corpus) {
		t.Errorf("corpus has %d payloads, table %d", len(files), len(corpus))
	}
}

func forgetestRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return b
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func mustMatchGolden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden (go test -update creates it): %v", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (go test -update rewrites it after checking):\n%s", path, firstDiff(got, want))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got " + g[i] + "\nwant " + w[i]
		}
	}
	return "lengths differ"
}
