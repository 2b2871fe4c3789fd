package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/opencontainers/go-digest"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
)

// pinned returns "<name>@<digest>" for the tag ref and its manifest digest.
func pinned(ref, dgst string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", events.Permanent(fmt.Errorf("parse image reference %q: %w", ref, err))
	}
	d, err := digest.Parse(dgst)
	if err != nil {
		return "", events.Permanent(fmt.Errorf("parse image digest %q: %w", dgst, err))
	}
	canonical, err := reference.WithDigest(reference.TrimNamed(named), d)
	if err != nil {
		return "", events.Permanent(fmt.Errorf("pin %s to %s: %w", ref, dgst, err))
	}
	return canonical.String(), nil
}

// pull makes the image ref@digest present on the daemon and returns the
// pinned reference to create containers from. An image already present is
// not pulled again.
func (t *Target) pull(ctx context.Context, ref, dgst string) (string, error) {
	from, err := t.opts.Registry.pullRef(ref)
	if err != nil {
		return "", err
	}
	pin, err := pinned(from, dgst)
	if err != nil {
		return "", err
	}
	if _, err := t.cli.ImageInspect(ctx, pin); err == nil {
		return pin, nil
	}
	host, _ := registry.Host(pin) // pinned parsed it
	auth, sent, err := t.opts.Registry.Auth(host)
	if err != nil {
		return "", err
	}
	started := time.Now()
	rc, err := t.cli.ImagePull(ctx, pin, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return "", pullError(host, sent, pin, err)
	}
	defer rc.Close()
	if err := drainPull(rc); err != nil {
		return "", pullError(host, sent, pin, err)
	}
	zerolog.Ctx(ctx).Info().Str("image", pin).Dur("duration", time.Since(started)).Msg("image pulled")
	return pin, nil
}

// pullMessage is one line of the daemon's pull progress stream.
type pullMessage struct {
	Status      string `json:"status"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// drainPull reads the progress stream to its end: the pull is complete only
// then, and a failure mid-way is reported inside the stream, not as a status.
func drainPull(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m pullMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read pull progress: %w", err)
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

// pullError classifies a failed pull from host: refused credentials, an
// untrusted certificate and an image the registry does not have are
// permanent, everything else (daemon or registry unreachable, a cut stream)
// is worth retrying.
func pullError(host string, sent bool, ref string, err error) error {
	if rerr := registryFault(host, sent, err); rerr != nil {
		return fmt.Errorf("pull %s: %w", ref, rerr)
	}
	err = fmt.Errorf("pull %s: %w", ref, err)
	if cerrdefs.IsNotFound(err) || missingImage(err.Error()) {
		return events.Permanent(err)
	}
	return events.Retryable(err, retryAfter)
}

// missingImage recognises the messages by which registries and daemons say
// a manifest does not exist, for errors that arrive inside the stream and so
// carry no status code.
func missingImage(msg string) bool {
	msg = strings.ToLower(msg)
	for _, s := range []string{"manifest unknown", "not found", "name unknown", "does not exist"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
