package forge

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxRef is the longest ref name accepted, in bytes.
const maxRef = 1 << 10

// CheckRefFormat applies the rules of `git check-ref-format <ref>` (git
// 2.39, without options) to a full ref name and returns the first one ref
// breaks, or nil: at least two components separated by single slashes, none
// empty, none beginning with "." or ending with ".lock"; no "..", "@{", "\",
// ASCII control character, space, "~", "^", ":", "?", "*" or "["; not ending
// with "."; not "@".
func CheckRefFormat(ref string) error {
	switch {
	case ref == "@":
		return errors.New(`is "@"`)
	case !strings.Contains(ref, "/"):
		return errors.New("has a single component")
	case strings.HasSuffix(ref, "."):
		return errors.New(`ends with "."`)
	case strings.Contains(ref, ".."):
		return errors.New(`contains ".."`)
	case strings.Contains(ref, "@{"):
		return errors.New(`contains "@{"`)
	}
	for i := 0; i < len(ref); i++ {
		if c := ref[i]; c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return fmt.Errorf("contains %q", c)
		}
	}
	for _, comp := range strings.Split(ref, "/") {
		switch {
		case comp == "":
			return errors.New("has an empty component")
		case strings.HasPrefix(comp, "."):
			return errors.New(`has a component beginning with "."`)
		case strings.HasSuffix(comp, ".lock"):
			return errors.New(`has a component ending with ".lock"`)
		}
	}
	return nil
}

// ValidateRef returns an error wrapping ErrMalformed unless ref is a full ref
// name git accepts (CheckRefFormat) and, for a branch or a tag, one git
// lets a user create: its name does not begin with "-" (which a git command
// line would read as an option) and is not "HEAD". It must also be valid
// UTF-8 and at most 1 KiB, so that it survives the JSON of an event as is.
func ValidateRef(ref string) error {
	err := CheckRefFormat(ref)
	switch {
	case err != nil:
	case len(ref) > maxRef:
		err = fmt.Errorf("is longer than %d bytes", maxRef)
	case !utf8.ValidString(ref):
		err = errors.New("is not valid UTF-8")
	default:
		for _, prefix := range []string{BranchPrefix, TagPrefix} {
			if name, ok := strings.CutPrefix(ref, prefix); ok && (strings.HasPrefix(name, "-") || name == "HEAD") {
				err = errors.New(`names a branch or tag beginning with "-" or named "HEAD"`)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%w: ref %.80q %w", ErrMalformed, ref, err)
	}
	return nil
}

// ValidateBranch is ValidateRef for the short name of a branch ("main").
func ValidateBranch(name string) error {
	if err := ValidateRef(BranchPrefix + name); err != nil {
		return fmt.Errorf("branch: %w", err)
	}
	return nil
}
