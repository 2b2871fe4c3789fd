package docker_test

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/provision"
)

// tarOf is a tar stream of files by name.
func tarOf(t *testing.T, files map[string]string) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

// TestRunProvisionWithTofu runs the real tofu command from the image
// scripts/setup.sh builds: a plan shows what it would create, an apply
// keeps its state in the step's volume, the next plan of the same
// configuration changes nothing and one of a changed configuration updates
// in place; the container has no network and its output no secret value.
func TestRunProvisionWithTofu(t *testing.T) {
	cli := dockertest.MustDocker(t)
	img := dockertest.MustTofuImage(t)
	target, err := docker.New(fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Close() })
	ctx := context.Background()
	env := dockertest.RandomName("t")
	vol := docker.StateVolume("acme/shop", env, "infra")
	t.Cleanup(func() { _ = cli.VolumeRemove(context.Background(), vol, true) })
	state := "-state=" + docker.ProvisionStateDir + "/terraform.tfstate"
	step := events.ProvisionStep{Name: "infra", Image: img, Dir: "infra",
		Plan:  []string{"tofu", "plan", "-no-color", "-input=false", state},
		Apply: []string{"tofu", "apply", "-no-color", "-input=false", "-auto-approve", state}}
	config := func(v string) map[string]string {
		return map[string]string{"main.tf": `resource "terraform_data" "bucket" {
  input = "` + v + `"
}
`}
	}
	run := func(phase events.ProvisionPhase, files map[string]string) (string, int) {
		t.Helper()
		out, code, err := target.RunProvision(ctx, provision.Run{Repo: "acme/shop", Env: env, Commit: dockertest.RandomCommit(), Step: step, Phase: phase, Files: tarOf(t, files)})
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		return out, code
	}
	steps := []struct {
		phase events.ProvisionPhase
		files map[string]string
		want  []string
	}{
		{events.PhasePlan, config("v1"), []string{"+ create", "Plan: 1 to add, 0 to change, 0 to destroy."}},
		{events.PhaseApply, config("v1"), []string{"Apply complete! Resources: 1 added, 0 changed, 0 destroyed."}},
		{events.PhasePlan, config("v1"), []string{"No changes."}},
		{events.PhasePlan, config("v2"), []string{"~ update in-place", "Plan: 0 to add, 1 to change, 0 to destroy."}},
		{events.PhaseApply, config("v2"), []string{"Resources: 0 added, 1 changed, 0 destroyed."}},
	}
	for i, s := range steps {
		out, code := run(s.phase, s.files)
		for _, w := range s.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Fatalf("run %d (%s) = %d:\n%s\nwant exit 0 with %q", i, s.phase, code, out, w)
			}
		}
	}
	vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", docker.LabelProvisionEnv+"="+env))})
	if err != nil || len(vols.Volumes) != 1 || vols.Volumes[0].Name != vol {
		t.Errorf("state volumes of %s: %+v (%v), want %s", env, vols.Volumes, err, vol)
	}

	// No network, and a secret reaches the environment but not the output.
	step.Apply = []string{"sh", "-c", "ls /sys/class/net; echo token=$CLOUD_TOKEN; exit 4"}
	out, code, err := target.RunProvision(ctx, provision.Run{Repo: "acme/shop", Env: env, Commit: dockertest.RandomCommit(), Step: step,
		Phase: events.PhaseApply, Secrets: []deploy.Secret{deploy.NewSecret("CLOUD_TOKEN", 1, "s3cr3t-value")}})
	if err != nil || code != 4 || strings.TrimSpace(out) != "lo\ntoken=[secret CLOUD_TOKEN]" {
		t.Errorf("RunProvision() = %q, %d, %v; want only the loopback interface, the secret redacted, exit 4", out, code, err)
	}
	list, err := cli.ContainerList(ctx, containerListAll(docker.LabelProvisionEnv+"="+env))
	if err != nil || len(list) != 0 {
		t.Errorf("%d provisioning containers left (%v)", len(list), err)
	}
}
