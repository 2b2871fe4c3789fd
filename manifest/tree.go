package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// Validate checks the manifest against root, the checked-out tree of the
// commit it was read from: each service's context must be a directory and its
// Dockerfile a regular file, and no element of either path may be a symbolic
// link (a link could lead the build outside the repository). The error, if
// any, is events.Permanent and joins one *FieldError per problem.
func (m *Manifest) Validate(root fs.FS) error {
	var errs []error
	for i, s := range m.services {
		p := fmt.Sprintf("services[%d]", i)
		field, msg := checkService(root, s.spec)
		switch field {
		case "context":
			errs = append(errs, &FieldError{Path: p + ".context", Line: s.contextLine, Msg: msg})
		case "dockerfile":
			errs = append(errs, &FieldError{Path: p + ".dockerfile", Line: s.dockerfileLine, Msg: msg})
		}
	}
	return events.Permanent(errors.Join(errs...))
}

// CheckService is Validate for the one service s, as a build request carries
// it: its context must be a directory of root and its Dockerfile a regular
// file, neither reached through a symbolic link. The error, if any, is
// events.Permanent wrapping a *FieldError whose path names the service, e.g.
// "services[web].context".
func CheckService(root fs.FS, s events.ServiceSpec) error {
	field, msg := checkService(root, s)
	if msg == "" {
		return nil
	}
	return events.Permanent(&FieldError{Path: "services[" + s.Name + "]." + field, Msg: msg})
}

// checkService returns the field of s that root does not satisfy ("context"
// or "dockerfile") and what is wrong with it, or two empty strings.
func checkService(root fs.FS, s events.ServiceSpec) (field, msg string) {
	if msg := checkTree(root, s.Context, true); msg != "" {
		return "context", msg
	}
	if msg := checkTree(root, path.Join(s.Context, s.Dockerfile), false); msg != "" {
		return "dockerfile", msg
	}
	return "", ""
}

// checkTree returns what is wrong with name in root, or "". dir says whether
// name must be a directory or a regular file.
func checkTree(root fs.FS, name string, dir bool) string {
	if name == "" || name == "." {
		if dir {
			return ""
		}
		return fmt.Sprintf("%q is not a file", name)
	}
	elems := strings.Split(name, "/")
	for i := range elems {
		sub := strings.Join(elems[:i+1], "/")
		fi, err := fs.Lstat(root, sub)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Sprintf("%q does not exist in the commit", sub)
		case err != nil:
			return fmt.Sprintf("cannot inspect %q", sub)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Sprintf("%q is a symbolic link", sub)
		case i < len(elems)-1 && !fi.IsDir():
			return fmt.Sprintf("%q is not a directory", sub)
		case i == len(elems)-1 && dir && !fi.IsDir():
			return fmt.Sprintf("%q is not a directory", sub)
		case i == len(elems)-1 && !dir && !fi.Mode().IsRegular():
			return fmt.Sprintf("%q is not a regular file", sub)
		}
	}
	return ""
}
