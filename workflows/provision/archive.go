package provision

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/slipway-dev/slipway/events"
)

// maxFiles bounds the size of what a step's dir copies into its container.
const maxFiles = 64 << 20

// archive returns a tar stream of dir inside checkout: its directories and
// regular files, paths relative to dir. Nothing outside the checkout is
// read (os.Root); symbolic links and other special files are left out. A
// missing dir or one larger than maxFiles is permanent.
func archive(checkout, dir string) (*bytes.Buffer, error) {
	root, err := os.OpenRoot(checkout)
	if err != nil {
		return nil, fmt.Errorf("open checkout: %w", err)
	}
	defer root.Close()
	sub, err := root.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
		return nil, events.Permanent(fmt.Errorf("dir %s is not in the commit", dir))
	}
	if err != nil {
		return nil, events.Permanent(fmt.Errorf("dir %s: %w", dir, err))
	}
	defer sub.Close()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err = fs.WalkDir(sub.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if !e.IsDir() && !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = p, 0, 0, "", ""
		if e.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil || e.IsDir() {
			return err
		}
		if buf.Len()+int(info.Size()) > maxFiles {
			return events.Permanent(fmt.Errorf("dir %s holds more than %d MiB", dir, maxFiles>>20))
		}
		f, err := sub.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("copy dir %s: %w", dir, err)
	}
	return &buf, tw.Close()
}
