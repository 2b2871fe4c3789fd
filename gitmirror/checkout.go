package gitmirror

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// Checkout writes the tree of sha into a new directory and returns it with a
// release function that removes it (safe to call more than once). The
// directory is the caller's until released.
func (m *Mirror) Checkout(ctx context.Context, repo events.Repo, sha string) (string, func(), error) {
	return m.checkout(ctx, repo, sha, nil)
}

// CheckoutPaths is Checkout writing only paths of the tree (slash-separated,
// relative to its root; "." is all of it): each with everything under it,
// and the directories or links on the way to it, so that what a build of
// one service of a monorepo sees is there as in a whole checkout, and the
// other services' files are not written.
func (m *Mirror) CheckoutPaths(ctx context.Context, repo events.Repo, sha string, paths []string) (string, func(), error) {
	return m.checkout(ctx, repo, sha, paths)
}

// checkout is Checkout of paths, or of the whole tree when paths is nil.
func (m *Mirror) checkout(ctx context.Context, repo events.Repo, sha string, paths []string) (string, func(), error) {
	gitDir, err := m.ensure(ctx, repo, sha)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(m.checkouts, events.RepoKey(repo.FullName)+"-"+sha[:12]+"-")
	if err != nil {
		return "", nil, fmt.Errorf("create checkout dir: %w", err)
	}
	release := sync.OnceFunc(func() { _ = os.RemoveAll(dir) })
	if err := m.archive(ctx, gitDir, sha, dir, paths); err != nil {
		release()
		return "", nil, fmt.Errorf("check out %s: %w", sha, err)
	}
	return dir, release, nil
}

// wanted reports whether the archive entry name is one of paths, on the
// way to one or under one; every entry is when paths is nil.
func wanted(name string, paths []string) bool {
	if paths == nil {
		return true
	}
	name = strings.TrimSuffix(name, "/")
	for _, p := range paths {
		p = path.Clean(p)
		if p == "." || name == p || strings.HasPrefix(name, p+"/") || strings.HasPrefix(p, name+"/") {
			return true
		}
	}
	return false
}

// archive streams git archive of sha into dir, writing the entries of
// paths only (wanted).
func (m *Mirror) archive(ctx context.Context, gitDir, sha, dir string, paths []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := m.command(ctx, gitDir, "archive", "--format=tar", sha)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{buf: &stderr, n: maxStderr}
	if err := cmd.Start(); err != nil {
		return err
	}
	untarErr := untar(stdout, dir, paths)
	if untarErr != nil {
		cancel() // stop git if we stopped reading
	}
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	if untarErr != nil {
		return untarErr
	}
	if waitErr != nil {
		return &gitError{args: "archive", stderr: strings.TrimSpace(stderr.String()), err: waitErr}
	}
	return nil
}

// untar extracts a git archive into dir. Every write goes through os.Root, so
// no entry can land outside dir, whatever links the tree holds. File times are
// set to those of the archive (the commit time). Entries paths does not
// want are skipped.
func untar(r io.Reader, dir string, paths []string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var dirs []*tar.Header
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if !filepath.IsLocal(h.Name) {
			return fmt.Errorf("archive entry %q escapes the checkout", h.Name)
		}
		if !wanted(h.Name, paths) {
			continue
		}
		if h.Typeflag == tar.TypeDir {
			dirs = append(dirs, h)
		}
		if err := extract(root, h, tr); err != nil {
			return fmt.Errorf("extract %s: %w", h.Name, err)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- { // children before parents
		if err := root.Chtimes(dirs[i].Name, dirs[i].ModTime, dirs[i].ModTime); err != nil {
			return fmt.Errorf("extract %s: %w", dirs[i].Name, err)
		}
	}
	return nil
}

// extract writes one archive entry under root.
func extract(root *os.Root, h *tar.Header, r io.Reader) error {
	name := filepath.FromSlash(h.Name)
	switch h.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, 0o755)
	case tar.TypeSymlink:
		return root.Symlink(h.Linkname, name)
	case tar.TypeReg:
		return writeFile(root, name, fileMode(h), r, h.ModTime)
	}
	return nil // global headers (the commit id) and anything git does not write
}

// fileMode is what git stores: executable or not.
func fileMode(h *tar.Header) os.FileMode {
	if h.Mode&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// writeFile creates name with the content of r and sets its times to mtime.
func writeFile(root *os.Root, name string, mode os.FileMode, r io.Reader, mtime time.Time) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return root.Chtimes(name, mtime, mtime)
}
