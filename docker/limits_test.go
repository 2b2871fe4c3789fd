package docker_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
)

// serveTmpCmd serves from /tmp, which any user may write to.
var serveTmpCmd = []string{"sh", "-c", `mkdir -p /tmp/www && echo ok > /tmp/www/healthz && exec httpd -f -p 8080 -h /tmp/www`}

// MustInspectLive returns the live container of service in the fixture's
// environment, from Docker.
func (f *fixture) MustInspectLive(tb testing.TB, service string) container.InspectResponse {
	tb.Helper()
	info, err := f.cli.ContainerInspect(f.ctx, docker.LiveName(f.repo, f.env, service))
	if err != nil {
		tb.Fatal(err)
	}
	return info
}

// TestContainersAreConfined deploys on the real daemon and reads back what
// Docker was told: without a word in slipway.yaml a container gets the
// operator's default memory and pids limits, no-new-privileges and only the
// default capabilities, and runs as the image's user; a service declaring
// resources and a user gets those.
func TestContainersAreConfined(t *testing.T) {
	f := MustFixture(t, fastOptions())
	plain := web(f.serve)
	raised := named("api", web(dockertest.MustImage(t, f.cli, "api", serveTmpCmd...)))
	raised.Service.Resources = events.Resources{Memory: 1 << 30, Pids: 1024, CPUs: 1.5}
	raised.Service.User = "1000:1000"
	f.MustDeploy(t, f.deployment(dockertest.RandomCommit(), plain, raised))

	tests := []struct {
		service  string
		memory   int64
		pids     int64
		nanoCPUs int64
		user     string
	}{
		{"web", 512 << 20, 512, 0, ""},
		{"api", 1 << 30, 1024, 1_500_000_000, "1000:1000"},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			info := f.MustInspectLive(t, tt.service)
			h := info.HostConfig
			if h.Memory != tt.memory || h.MemorySwap != tt.memory || h.PidsLimit == nil || *h.PidsLimit != tt.pids || h.NanoCPUs != tt.nanoCPUs {
				t.Errorf("memory %d swap %d pids %v cpus %d, want %d, %d, %d, %d", h.Memory, h.MemorySwap, h.PidsLimit, h.NanoCPUs, tt.memory, tt.memory, tt.pids, tt.nanoCPUs)
			}
			if !slices.Contains(h.SecurityOpt, "no-new-privileges:true") {
				t.Errorf("SecurityOpt = %v, want no-new-privileges", h.SecurityOpt)
			}
			if !slices.Equal(h.CapDrop, []string{"ALL"}) || !slices.Equal(withCapPrefix(h.CapAdd), withCapPrefix(docker.DefaultCapabilities)) {
				t.Errorf("CapDrop %v CapAdd %v, want ALL and %v", h.CapDrop, h.CapAdd, docker.DefaultCapabilities)
			}
			if info.Config.User != tt.user {
				t.Errorf("User = %q, want %q", info.Config.User, tt.user)
			}
			if info.State == nil || !info.State.Running {
				t.Errorf("state %+v, want running", info.State)
			}
		})
	}
	// The kernel agrees: web's init (root) holds only the default
	// capabilities (CHOWN, DAC_OVERRIDE, FOWNER, KILL, SETGID, SETUID,
	// NET_BIND_SERVICE: bits 0 1 3 5 6 7 10) and cannot gain more; api's
	// server runs as uid 1000.
	status := mustProcStatus(t, f.MustInspectLive(t, "web").State.Pid)
	if status["CapEff"] != "00000000000004eb" || status["CapBnd"] != "00000000000004eb" || status["NoNewPrivs"] != "1" {
		t.Errorf("web's init: CapEff %s CapBnd %s NoNewPrivs %s, want 4eb, 4eb, 1", status["CapEff"], status["CapBnd"], status["NoNewPrivs"])
	}
	top, err := f.cli.ContainerTop(f.ctx, docker.LiveName(f.repo, f.env, "api"), []string{"-o", "pid,uid,args"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range top.Processes {
		if len(p) == 3 && strings.Contains(p[2], "httpd") {
			found = true
			if p[1] != "1000" {
				t.Errorf("httpd runs as uid %s, want 1000", p[1])
			}
		}
	}
	if !found {
		t.Errorf("no httpd among %v", top.Processes)
	}
}

// withCapPrefix names capabilities as Docker reports them, CAP_X.
func withCapPrefix(caps []string) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = "CAP_" + strings.TrimPrefix(c, "CAP_")
	}
	return out
}

// mustProcStatus reads /proc/<pid>/status of a container's process (the
// tests run on the daemon's host).
func mustProcStatus(tb testing.TB, pid int) map[string]string {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("read status of the container's process: %v", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// TestDeployRefusesWhatNoRetryStarts: a service beyond the operator's
// maxima, or with an environment the container runtime refuses, fails the
// deploy permanently before any container starts.
func TestDeployRefusesWhatNoRetryStarts(t *testing.T) {
	opts := fastOptions()
	opts.Limits.Max = events.Resources{Memory: 1 << 30, Pids: 1000, CPUs: 2}
	f := MustFixture(t, opts)
	tests := []struct {
		name    string
		change  func(*events.ServiceSpec)
		wantErr string
	}{
		{"memory above maximum", func(s *events.ServiceSpec) { s.Resources.Memory = 2 << 30 }, "memory 2GiB is more than the maximum of 1GiB"},
		{"pids above maximum", func(s *events.ServiceSpec) { s.Resources.Pids = 5000 }, "pids 5000 is more than the maximum of 1000"},
		{"cpus above maximum", func(s *events.ServiceSpec) { s.Resources.CPUs = 4 }, "cpus 4 is more than the maximum of 2"},
		{"env value with NUL", func(s *events.ServiceSpec) { s.Env["TOKEN"] = "a\x00b" }, `environment variable "TOKEN"`},
		{"env name with =", func(s *events.ServiceSpec) { s.Env["A=B"] = "x" }, `environment variable "A=B"`},
		{"user with NUL", func(s *events.ServiceSpec) { s.User = "app\x00" }, "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := web(f.serve)
			img.Service.Env = map[string]string{"GREETING": "hi"}
			tt.change(&img.Service)
			start := time.Now()
			err := f.deploy(t, f.deployment(dockertest.RandomCommit(), img))
			if !events.IsPermanent(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Deploy() = %v, want permanent %q", err, tt.wantErr)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refusing took %s", took)
			}
			if cs := f.containers(t); len(cs) != 0 {
				t.Errorf("containers left: %v", names(cs))
			}
			d := f.deployment(dockertest.RandomCommit(), img)
			if _, _, err := f.t.RunTask(f.ctx, d, img, events.Task{Name: "migrate", Command: []string{"true"}}); !events.IsPermanent(err) {
				t.Errorf("RunTask() = %v, want permanent", err)
			}
		})
	}
}

// TestRunTaskRefusesNUL: a command no process can be given fails the task
// permanently, with no container created.
func TestRunTaskRefusesNUL(t *testing.T) {
	f := MustFixture(t, fastOptions())
	img := web(f.serve)
	d := f.deployment(dockertest.RandomCommit(), img)
	_, _, err := f.t.RunTask(f.ctx, d, img, events.Task{Name: "migrate", Command: []string{"echo", "a\x00b"}})
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("RunTask() = %v, want permanent NUL", err)
	}
	list, err := f.cli.ContainerList(f.ctx, containerListAll(docker.LabelTaskEnv+"="+f.env))
	if err != nil || len(list) != 0 {
		t.Errorf("task containers %d (%v), want none", len(list), err)
	}
}

// TestTaskPidsLimit: the pids limit holds inside the container. A task
// starting 40 processes under a limit of 20 cannot fork and fails; the same
// task whose service raises the limit succeeds.
func TestTaskPidsLimit(t *testing.T) {
	opts := fastOptions()
	opts.Limits.Defaults.Pids = 20
	f := MustFixture(t, opts)
	spawn := events.Task{Name: "spawn", Command: []string{"sh", "-c",
		`i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; echo spawned $i; wait`}}
	tests := []struct {
		name     string
		pids     int64
		wantCode int
		wantOut  string
	}{
		{"default limit", 0, 2, "can't fork"},
		{"raised by the service", 100, 0, "spawned 40"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := web(f.serve)
			img.Service.Resources.Pids = tt.pids
			out, code, err := f.t.RunTask(f.ctx, f.deployment(dockertest.RandomCommit(), img), img, spawn)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("RunTask() = %q, exit %d; want exit %d with %q", out, code, tt.wantCode, tt.wantOut)
			}
		})
	}
}
