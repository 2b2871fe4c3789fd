package docker_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// echoSecretCmd serves the value of $DATABASE_URL at /.
var echoSecretCmd = []string{"sh", "-c", `mkdir -p /www && echo "$DATABASE_URL" > /www/index.html && ` +
	`echo ok > /www/healthz && exec httpd -f -p 8080 -h /www`}

const secretValue = "postgres://app:s3cr3t-9f2c@db/shop"

// withSecrets is img whose service references names.
func withSecrets(img events.Image, names ...string) events.Image {
	img.Service.Secrets = names
	return img
}

// TestSecretsReachOnlyTheirContainers: on the real daemon a service gets
// the secrets it references as environment variables, read back from
// inside the container over HTTP; its labels hold the versions, never the
// value; a service that does not reference a secret does not get it; a
// task gets it too, and neither a failing container's log lines in the
// deploy error nor a task's output carry the value.
func TestSecretsReachOnlyTheirContainers(t *testing.T) {
	f := MustFixture(t, fastOptions())
	echo := dockertest.MustImage(t, f.cli, "echo-secret", echoSecretCmd...)
	sec := []deploy.Secret{deploy.NewSecret("DATABASE_URL", 7, secretValue)}
	commit := dockertest.RandomCommit()
	d := f.deployment(commit, withSecrets(web(echo), "DATABASE_URL"), named("api", web(f.serve)))
	d.Secrets = sec
	f.MustDeploy(t, d)

	rel, err := f.t.Current(f.ctx, f.repo, f.env)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]deploy.ServiceState{}
	for _, s := range rel.Services {
		byName[s.Name] = s
	}
	if got := MustGet(t, "http://"+byName["web"].Addr+"/", ""); got != secretValue {
		t.Errorf("web serves %q, want the secret's value from its environment", got)
	}
	if want := map[string]uint64{"DATABASE_URL": 7}; !maps.Equal(byName["web"].Secrets, want) || byName["api"].Secrets != nil {
		t.Errorf("Current() secrets web %v, api %v; want %v and none", byName["web"].Secrets, byName["api"].Secrets, want)
	}
	for _, c := range f.containers(t) {
		info, err := f.cli.ContainerInspect(f.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range info.Config.Labels {
			if strings.Contains(v, "s3cr3t") {
				t.Errorf("label %s of %s holds the value", k, c.Names[0])
			}
		}
		hasIt := strings.Contains(strings.Join(info.Config.Env, "\n"), "DATABASE_URL=")
		if svc := info.Config.Labels[docker.LabelService]; hasIt != (svc == "web") {
			t.Errorf("container of %s has DATABASE_URL in its environment: %v", svc, hasIt)
		}
		if info.Config.Labels[docker.LabelService] == "web" && info.Config.Labels[docker.LabelSecrets] != "DATABASE_URL=7" {
			t.Errorf("label %s = %q, want DATABASE_URL=7", docker.LabelSecrets, info.Config.Labels[docker.LabelSecrets])
		}
	}

	// The same commit with a changed secret replaces the containers.
	changed := d
	changed.Secrets = []deploy.Secret{deploy.NewSecret("DATABASE_URL", 8, secretValue+"-rotated")}
	f.MustDeploy(t, changed)
	if rel, err = f.t.Current(f.ctx, f.repo, f.env); err != nil {
		t.Fatal(err)
	}
	for _, s := range rel.Services {
		byName[s.Name] = s
	}
	if got := MustGet(t, "http://"+byName["web"].Addr+"/", ""); got != secretValue+"-rotated" || byName["web"].Secrets["DATABASE_URL"] != 8 {
		t.Errorf("after a changed secret web serves %q at versions %v, want the new value at 8", got, byName["web"].Secrets)
	}

	task := events.Task{Name: "migrate", Command: []string{"sh", "-c", `test "$DATABASE_URL" = '` + secretValue + `' && echo "got $DATABASE_URL"`}}
	out, code, err := f.t.RunTask(f.ctx, d, d.Images[0], task)
	if err != nil || code != 0 || !strings.Contains(out, "got [secret DATABASE_URL]") || strings.Contains(out, "s3cr3t") {
		t.Errorf("task: %q, exit %d, %v; want it to get the secret and its output redacted", out, code, err)
	}

	leak := dockertest.MustImage(t, f.cli, "leak-secret", "sh", "-c", `echo "connecting to $DATABASE_URL failed" >&2; exit 3`)
	bad := f.deployment(dockertest.RandomCommit(), withSecrets(web(leak), "DATABASE_URL"))
	bad.Secrets = sec
	err = f.deploy(t, bad)
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "connecting to [secret DATABASE_URL] failed") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("deploy of a crashing service: %v; want its log lines with the secret redacted", err)
	}
	if got := MustGet(t, "http://"+byName["web"].Addr+"/", ""); got != secretValue+"-rotated" {
		t.Errorf("after the failed deploy web serves %q, want the previous containers serving", got)
	}
}
