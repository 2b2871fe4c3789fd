package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// maxLinks bounds the symbolic links of one build context that are resolved
// to check where they lead.
const maxLinks = 10000

// resolve returns the build context and the Dockerfile of s inside the
// checkout dir, as absolute paths. Every path is resolved inside the
// checkout through os.Root: the context and the Dockerfile must not be, or
// pass through, a symbolic link, and no link inside the context may lead out
// of the checkout. Its errors are permanent and name the path in the
// repository, never what a link points to.
func resolve(dir string, s events.ServiceSpec) (contextDir, dockerfile string, err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", "", fmt.Errorf("open checkout: %w", err)
	}
	defer root.Close()
	if err := manifest.CheckService(root.FS(), s); err != nil {
		return "", "", err
	}
	if err := checkLinks(root, s.Context); err != nil {
		return "", "", events.Permanent(&manifest.FieldError{Path: "services[" + s.Name + "].context", Msg: err.Error()})
	}
	contextDir = filepath.Join(dir, filepath.FromSlash(s.Context))
	return contextDir, filepath.Join(contextDir, filepath.FromSlash(s.Dockerfile)), nil
}

// checkLinks walks the directory name of root and refuses a symbolic link
// that leads out of root (an absolute target, or one climbing above the
// root), whether or not its target exists. A link that stays inside, or
// leads nowhere inside, is kept: BuildKit sends it as a link.
func checkLinks(root *os.Root, name string) error {
	links := 0
	return fs.WalkDir(root.FS(), name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot read %q", p)
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if links++; links > maxLinks {
			return fmt.Errorf("more than %d symbolic links", maxLinks)
		}
		if _, err := root.Stat(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%q is a symbolic link leading outside the repository", path.Clean(p))
		}
		return nil
	})
}
