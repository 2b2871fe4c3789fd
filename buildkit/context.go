package buildkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tonistiigi/fsutil"

	"github.com/slipway-dev/slipway/workflows/build"
)

// openContext opens the build context and the directory of the Dockerfile of
// req through an os.Root of the checkout, so that what BuildKit reads never
// leaves the checkout: a symbolic link on the way to either, or inside them,
// that leads out of it is refused by the kernel-checked lookups of os.Root,
// not by comparing path strings. release releases both.
func openContext(req build.Request) (contextFS, dockerfileFS fsutil.FS, release func(), err error) {
	checkout := req.Checkout
	if checkout == "" {
		checkout = req.ContextDir
	}
	root, err := os.OpenRoot(checkout)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open checkout: %w", err)
	}
	defer root.Close()
	ctxRoot, err := openInside(root, checkout, req.ContextDir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open context: %w", err)
	}
	dfRoot, err := openInside(root, checkout, filepath.Dir(req.Dockerfile))
	if err != nil {
		_ = ctxRoot.Close()
		return nil, nil, nil, fmt.Errorf("open Dockerfile directory: %w", err)
	}
	ctx, df := fsutil.NewRoot(ctxRoot), fsutil.NewRoot(dfRoot)
	return fsutil.NewRootFS(ctx), fsutil.NewRootFS(df), func() { _ = errors.Join(ctx.Close(), df.Close()) }, nil
}

// openInside opens dir, an absolute path below checkout, through root.
func openInside(root *os.Root, checkout, dir string) (*os.Root, error) {
	rel, err := filepath.Rel(checkout, dir)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return nil, fmt.Errorf("%s is not inside the checkout", dir)
	}
	return root.OpenRoot(rel)
}
