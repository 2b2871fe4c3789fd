package gitmirror

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// ObjectIDs returns the git object id of each path (slash-separated,
// relative to the repository root; "." is the root tree) at commit sha,
// fetching the commit if needed, all in one git process: a tree's id
// changes exactly when something under it does. Paths are looked up in the
// commit's tree, never on a disk, and a symbolic link is its own blob (what
// a build sees), not its target. A path missing from the commit has the id
// "".
func (m *Mirror) ObjectIDs(ctx context.Context, repo events.Repo, sha string, paths []string) ([]string, error) {
	var in strings.Builder
	for _, p := range paths {
		if p != "." && (!fs.ValidPath(p) || strings.ContainsAny(p, "\n\x00")) {
			return nil, events.Permanent(&fs.PathError{Op: "look up", Path: p, Err: fs.ErrInvalid})
		}
		if p == "." {
			p = "" // "<sha>:" is the commit's root tree
		}
		in.WriteString(sha + ":" + p + "\n")
	}
	gitDir, err := m.ensure(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	cmd := m.command(ctx, gitDir, "cat-file", "--batch-check=%(objectname) %(objecttype)")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{buf: &stderr, n: maxStderr}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("look up objects at %s: %w", sha, &gitError{args: "cat-file", stderr: strings.TrimSpace(stderr.String()), err: err})
	}
	ids := make([]string, 0, len(paths))
	sc := bufio.NewScanner(bytes.NewReader(out))
	for i := 0; sc.Scan() && i < len(paths); i++ {
		id, kind, _ := strings.Cut(sc.Text(), " ")
		if kind != "tree" && kind != "blob" {
			id = "" // "<object> missing", or a submodule's commit
		}
		ids = append(ids, id)
	}
	if len(ids) != len(paths) {
		return nil, fmt.Errorf("look up objects at %s: git answered %d of %d", sha, len(ids), len(paths))
	}
	return ids, nil
}

// ChangedPaths returns the paths (relative to the repository root) commit
// sha changes against its first parent, every path of its tree for a root
// commit, fetching the commit if needed; a merge commit is compared with
// its first parent too.
func (m *Mirror) ChangedPaths(ctx context.Context, repo events.Repo, sha string) ([]string, error) {
	gitDir, err := m.ensure(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	out, err := m.run(ctx, gitDir, "", "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", "-m", "--first-parent", "-z", sha)
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", sha, err)
	}
	var paths []string
	for _, p := range strings.Split(string(out), "\x00") {
		if p != "" {
			paths = append(paths, p)
		}
	}
	return paths, nil
}
