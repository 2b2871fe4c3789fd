package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/provision"
)

var _ provision.Runner = (*Target)(nil)

// Labels of a provisioning step's container and of its state volume. They
// carry no slipway.env, so the deploys of its environment never see them.
const (
	LabelProvisionEnv = "slipway.provision.env"
	LabelProvision    = "slipway.provision"
)

// Where a provisioning step's container finds its files.
const (
	ProvisionWorkDir  = "/work"
	ProvisionStateDir = "/state"
)

// StateVolume is the name of the volume holding the state of step in env
// of repo: one per (repository, environment, step), kept between runs.
func StateVolume(repo, env, step string) string {
	sum := sha256.Sum256([]byte(repo + "\x00" + env + "\x00" + step))
	return "slipway-state-" + events.RepoToken(repo) + "-" + env + "-" + step + "-" + hex.EncodeToString(sum[:4])
}

// RunProvision runs one phase of a provisioning step to completion in a
// container of the step's image: the step's files copied into
// ProvisionWorkDir (its working directory, writable, gone with the
// container), its state volume at ProvisionStateDir, no network unless the
// step declares it, the limits of every container, the secrets it names as
// environment variables. It returns the end of the output, with secret
// values redacted, and the exit code. A run past the step's timeout is
// killed: permanent. An unreachable daemon is retryable.
func (t *Target) RunProvision(ctx context.Context, r provision.Run) (string, int, error) {
	step := r.Step
	cmd := step.Command(r.Phase)
	if len(cmd) == 0 {
		return "", -1, events.Permanent(fmt.Errorf("provisioning step %s has no %s command", step.Name, r.Phase))
	}
	for _, arg := range cmd {
		if strings.IndexByte(arg, 0) >= 0 {
			return "", -1, events.Permanent(fmt.Errorf("provisioning step %s: an argument of its command holds a NUL byte", step.Name))
		}
	}
	ref, err := t.pullTag(ctx, step.Image)
	if err != nil {
		return "", -1, err
	}
	vol := StateVolume(r.Repo, r.Env, step.Name)
	labels := map[string]string{LabelProvisionEnv: r.Env, LabelProvision: step.Name, LabelRepo: r.Repo}
	if _, err := t.cli.VolumeCreate(ctx, volume.CreateOptions{Name: vol, Labels: labels}); err != nil {
		return "", -1, daemonError("create state volume "+vol, err)
	}
	name := "slipway." + events.RepoToken(r.Repo) + "." + r.Env + ".provision-" + step.Name + "-" + string(r.Phase) + "-" + short(r.Commit)
	if err := t.forceRemove(ctx, name); err != nil { // left by a crashed run
		return "", -1, err
	}
	env := []string{"SLIPWAY_COMMIT=" + r.Commit, "SLIPWAY_ENV=" + r.Env, "SLIPWAY_PROVISION=" + step.Name,
		"SLIPWAY_PHASE=" + string(r.Phase), "SLIPWAY_STATE=" + ProvisionStateDir, "TF_IN_AUTOMATION=1", "NO_COLOR=1"}
	for _, s := range r.Secrets {
		env = append(env, s.Name+"="+s.Value())
	}
	labels[LabelCommit] = r.Commit
	cfg := &container.Config{Image: ref, Cmd: cmd, Env: env, WorkingDir: ProvisionWorkDir, Labels: labels}
	host := &container.HostConfig{
		Init:   &withInit,
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: ProvisionStateDir}},
	}
	if !step.Network {
		host.NetworkMode = "none"
	}
	t.opts.Limits.confine(cfg, host, events.ServiceSpec{Name: step.Name})
	resp, err := t.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return "", -1, daemonError("create provisioning container "+name, err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = t.forceRemove(rctx, resp.ID)
	}()
	if err := t.copyFiles(ctx, resp.ID, r); err != nil {
		return "", -1, err
	}
	code, err := t.runToEnd(ctx, resp.ID, name, events.Task{Name: "provisioning step " + step.Name, Timeout: step.Timeout})
	out := redact(t.output(context.WithoutCancel(ctx), resp.ID), r.Secrets)
	zerolog.Ctx(ctx).Info().Str("step", step.Name).Str("phase", string(r.Phase)).Int("exit", code).Msg("provisioning step finished")
	return out, code, err
}

// copyFiles creates the working directory in the container and copies the
// step's files into it.
func (t *Target) copyFiles(ctx context.Context, id string, r provision.Run) error {
	var dir bytes.Buffer
	tw := tar.NewWriter(&dir)
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(ProvisionWorkDir, "/") + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := t.cli.CopyToContainer(ctx, id, "/", &dir, container.CopyToContainerOptions{}); err != nil {
		return daemonError("create the working directory of "+r.Step.Name, err)
	}
	if r.Files == nil {
		return nil
	}
	if err := t.cli.CopyToContainer(ctx, id, ProvisionWorkDir, r.Files, container.CopyToContainerOptions{}); err != nil {
		return daemonError("copy the files of "+r.Step.Name, err)
	}
	return nil
}

// pullTag makes the image ref present on the daemon, pulling it when it is
// not, and returns the reference to create containers from.
func (t *Target) pullTag(ctx context.Context, ref string) (string, error) {
	from, err := t.opts.Registry.pullRef(ref)
	if err != nil {
		return "", err
	}
	if _, err := t.cli.ImageInspect(ctx, from); err == nil {
		return from, nil
	}
	host, err := registry.Host(from)
	if err != nil {
		return "", events.Permanent(fmt.Errorf("image %q: %w", ref, err))
	}
	auth, sent, err := t.opts.Registry.Auth(host)
	if err != nil {
		return "", err
	}
	rc, err := t.cli.ImagePull(ctx, from, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return "", pullError(host, sent, from, err)
	}
	defer rc.Close()
	if err := drainPull(rc); err != nil {
		return "", pullError(host, sent, from, err)
	}
	return from, nil
}
