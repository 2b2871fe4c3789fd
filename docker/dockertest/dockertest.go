// Package dockertest gives tests a real Docker daemon, a real registry and
// small images built on the spot from the host's static busybox. Without a
// daemon or registry a test is skipped, except in CI (CI=true), where it
// fails: a missing component must never look like a pass.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/slipway-dev/slipway/internal/daemonlock"
)

// BusyboxPath is the static busybox binary images are built from
// (Debian's busybox-static).
const BusyboxPath = "/bin/busybox"

// DefaultRegistry is the registry test images are pushed to when
// SLIPWAY_REGISTRY is unset: the one scripts/setup.sh starts.
const DefaultRegistry = "localhost:5000"

// applets are the busybox commands test images link to.
var applets = []string{"sh", "httpd", "mkdir", "echo", "cat", "sleep", "ls", "env", "wget", "true", "false"}

// unavailable skips the test, or fails it in CI.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// MustDocker returns a client to the daemon the environment names, closed
// when the test ends.
func MustDocker(tb testing.TB) *client.Client {
	tb.Helper()
	daemonlock.Shared(tb) // a fault test may restart the daemon
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		tb.Fatalf("create docker client: %v", err)
	}
	tb.Cleanup(func() { _ = cli.Close() }) // only closes idle connections
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		unavailable(tb, "dockerd not reachable (run scripts/setup.sh): %v", err)
	}
	return cli
}

// MustRegistry returns the host[:port] of the test registry
// (SLIPWAY_REGISTRY, or DefaultRegistry) once it answers.
func MustRegistry(tb testing.TB) string {
	tb.Helper()
	daemonlock.Shared(tb) // a fault test may restart the daemon
	reg := os.Getenv("SLIPWAY_REGISTRY")
	if reg == "" {
		reg = DefaultRegistry
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + reg + "/v2/")
	if err != nil {
		unavailable(tb, "registry %s not reachable (run scripts/setup.sh): %v", reg, err)
		return reg
	}
	resp.Body.Close()
	return reg
}

// Image is a test image pushed to the registry.
type Image struct {
	Ref    string // "<registry>/slipway-test/<name>:<tag>"
	Digest string // manifest digest in the registry
}

// MustImage builds a busybox image whose command is cmd, pushes it as
// <registry>/slipway-test/<name> under a fresh tag and returns it. The local
// copy is removed when the test ends; the registry keeps it.
func MustImage(tb testing.TB, cli *client.Client, name string, cmd ...string) Image {
	tb.Helper()
	if _, err := os.Stat(BusyboxPath); err != nil {
		unavailable(tb, "static busybox missing (apt-get install busybox-static): %v", err)
	}
	ref := MustRegistry(tb) + "/slipway-test/" + name + ":" + RandomName("t")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := importImage(ctx, cli, ref, cmd); err != nil {
		tb.Fatalf("build test image %s: %v", ref, err)
	}
	tb.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	dgst, err := push(ctx, cli, ref)
	if err != nil {
		tb.Fatalf("push test image %s: %v", ref, err)
	}
	return Image{Ref: ref, Digest: dgst}
}

// importImage imports a busybox root file system as ref with cmd.
func importImage(ctx context.Context, cli *client.Client, ref string, cmd []string) error {
	rootfs, err := busyboxTar()
	if err != nil {
		return err
	}
	cmdJSON, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: rootfs, SourceName: "-"}, ref, image.ImportOptions{
		Changes: []string{"ENV PATH=/bin", "CMD " + string(cmdJSON)},
	})
	if err != nil {
		return err
	}
	defer rc.Close()
	return drain(rc, nil)
}

// busyboxTar returns a root file system holding /bin/busybox and its
// applet links.
func busyboxTar() (io.Reader, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdrs := []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
		{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))},
	}
	for _, a := range applets {
		hdrs = append(hdrs, &tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777})
	}
	for _, h := range hdrs {
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Name == "bin/busybox" {
			if _, err := tw.Write(bin); err != nil {
				return nil, err
			}
		}
	}
	return &buf, tw.Close()
}

// push pushes ref and returns the digest the registry stored it under.
func push(ctx context.Context, cli *client.Client, ref string) (string, error) {
	// "e30=" is base64 "{}": no credentials, but older daemons want the header.
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: "e30="})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var dgst string
	err = drain(rc, func(aux json.RawMessage) {
		var a struct{ Digest string }
		if json.Unmarshal(aux, &a) == nil && a.Digest != "" {
			dgst = a.Digest
		}
	})
	if err == nil && dgst == "" {
		err = errors.New("no digest in push output")
	}
	return dgst, err
}

// drain reads a daemon progress stream to its end, handing aux messages to
// onAux, and returns the first error it reports.
func drain(r io.Reader, onAux func(json.RawMessage)) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error string          `json:"error"`
			Aux   json.RawMessage `json:"aux"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
		if m.Aux != nil && onAux != nil {
			onAux(m.Aux)
		}
	}
}

// RandomName returns prefix followed by "-" and 8 random hex digits: a
// lower-case DNS label, usable as an environment name.
func RandomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.ToLower(prefix) + "-" + hex.EncodeToString(b)
}

// RandomCommit returns 40 random hex digits, shaped like a git commit.
func RandomCommit() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String returns the pinned reference of the image, for test logs.
func (i Image) String() string { return fmt.Sprintf("%s@%s", i.Ref, i.Digest) }

// Containers lists every container labelled with environment env, running
// or not, as "<name>@<commit>" (the slipway.env and slipway.commit labels),
// but the stopped ones retained for a rollback (named "….kept-<id>"). A
// container the environment's newest release record holds (a service a
// deploy kept because it did not change) is at the record's commit.
func Containers(tb testing.TB, env string) []string {
	tb.Helper()
	cli := MustDocker(tb)
	list, err := cli.ContainerList(context.Background(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", "slipway.env="+env)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	commit, holds := recorded(tb, cli, env)
	var names []string
	for _, c := range list {
		if c.State != "running" && strings.Contains(c.Names[0], ".kept-") {
			continue
		}
		at := c.Labels["slipway.commit"]
		if holds[c.ID[:12]] {
			at = commit
		}
		names = append(names, c.Names[0]+"@"+at)
	}
	return names
}

// recorded returns the commit of the newest release record of env (a
// volume labelled slipway.release) and the short ids of the containers it
// holds.
func recorded(tb testing.TB, cli *client.Client, env string) (string, map[string]bool) {
	tb.Helper()
	resp, err := cli.VolumeList(context.Background(), volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "slipway.env="+env), filters.Arg("label", "slipway.release"),
	)})
	if err != nil {
		tb.Fatal(err)
	}
	var newest *volume.Volume
	for _, v := range resp.Volumes {
		if newest == nil || seqOf(v) > seqOf(newest) {
			newest = v
		}
	}
	holds := map[string]bool{}
	if newest == nil {
		return "", holds
	}
	for _, id := range strings.Split(newest.Labels["slipway.containers"], ",") {
		holds[id] = true
	}
	return newest.Labels["slipway.release"], holds
}

// seqOf returns the order of a release record.
func seqOf(v *volume.Volume) int64 {
	n, _ := strconv.ParseInt(v.Labels["slipway.seq"], 10, 64)
	return n
}

// PushedDigest reads an image push's progress stream to its end (closing
// it) and returns the digest the registry stored; a push error or no
// digest fails tb.
func PushedDigest(tb testing.TB, rc io.ReadCloser) string {
	tb.Helper()
	defer rc.Close()
	digest := ""
	for dec := json.NewDecoder(rc); ; {
		var m struct {
			Error string
			Aux   struct{ Digest string }
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			tb.Fatal(err)
		}
		if m.Error != "" {
			tb.Fatalf("push: %s", m.Error)
		}
		if m.Aux.Digest != "" {
			digest = m.Aux.Digest
		}
	}
	if digest == "" {
		tb.Fatal("push: no digest")
	}
	return digest
}
