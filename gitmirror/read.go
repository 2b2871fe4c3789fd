package gitmirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// ReadFile returns the content of path (slash-separated, relative to the
// repository root) at commit sha, fetching the commit if needed. Symbolic
// links inside the tree are followed. A path that is not a file in that
// commit is a permanent error wrapping fs.ErrNotExist.
func (m *Mirror) ReadFile(ctx context.Context, repo events.Repo, sha, path string) ([]byte, error) {
	if !fs.ValidPath(path) || path == "." || strings.ContainsAny(path, "\n\x00") {
		return nil, events.Permanent(&fs.PathError{Op: "read", Path: path, Err: fs.ErrInvalid})
	}
	gitDir, err := m.ensure(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	out, err := m.catFile(ctx, gitDir, sha+":"+path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, sha, err)
	}
	data, err := parseBatch(out)
	if err != nil {
		return nil, events.Permanent(&fs.PathError{Op: "read", Path: path + "@" + sha, Err: err})
	}
	return data, nil
}

// catFile asks git cat-file --batch for one object.
func (m *Mirror) catFile(ctx context.Context, gitDir, object string) ([]byte, error) {
	cmd := m.command(ctx, gitDir, "cat-file", "--batch", "--follow-symlinks")
	cmd.Stdin = strings.NewReader(object + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{buf: &stderr, n: maxStderr}
	out, err := cmd.Output()
	if err != nil {
		return nil, &gitError{args: "cat-file", stderr: strings.TrimSpace(stderr.String()), err: err}
	}
	return out, nil
}

// errIsDir is returned for a path that names a directory.
var errIsDir = errors.New("is a directory")

// parseBatch returns the content of a blob from the output of
// cat-file --batch, whose header is "<oid> <type> <size>" for an object and
// "<name> missing" (or "dangling", "loop", "notdir", "symlink" for links that
// lead nowhere inside the tree) otherwise.
func parseBatch(out []byte) ([]byte, error) {
	header, body, _ := bytes.Cut(out, []byte("\n"))
	f := strings.Fields(string(header))
	if len(f) == 3 && f[1] == "blob" {
		size, err := strconv.Atoi(f[2])
		if err != nil || size > len(body) {
			return nil, fmt.Errorf("malformed cat-file output %q", header)
		}
		return body[:size], nil
	}
	if len(f) == 3 && f[1] == "tree" {
		return nil, errIsDir
	}
	return nil, fs.ErrNotExist
}
