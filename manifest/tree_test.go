package manifest_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

func TestValidate(t *testing.T) {
	const yml = "version: 1\nservices:\n" +
		"  - name: web\n    context: services/web\n    port: 8080\n" +
		"  - name: api\n    context: services/api\n    dockerfile: build/Dockerfile\n    port: 9090\n"
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	dir := &fstest.MapFile{Mode: fs.ModeDir | 0o755}
	link := func(to string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(to), Mode: fs.ModeSymlink} }
	good := fstest.MapFS{
		"services/web/Dockerfile":       file("FROM scratch\n"),
		"services/api/build/Dockerfile": file("FROM scratch\n"),
	}
	with := func(edit func(fstest.MapFS)) fstest.MapFS {
		m := fstest.MapFS{}
		for k, v := range good {
			m[k] = v
		}
		edit(m)
		return m
	}
	tests := []struct {
		name string
		root fs.FS
		want []string
	}{
		{"valid tree", good, nil},
		{"context missing", with(func(m fstest.MapFS) { delete(m, "services/web/Dockerfile") }),
			[]string{`slipway.yaml:4: services[0].context: "services/web" does not exist in the commit`}},
		{"context is a file", with(func(m fstest.MapFS) {
			delete(m, "services/web/Dockerfile")
			m["services/web"] = file("x")
		}), []string{`slipway.yaml:4: services[0].context: "services/web" is not a directory`}},
		{"parent is a file", with(func(m fstest.MapFS) {
			delete(m, "services/web/Dockerfile")
			delete(m, "services/api/build/Dockerfile")
			m["services"] = file("x")
		}), []string{
			`slipway.yaml:4: services[0].context: "services" is not a directory`,
			`slipway.yaml:7: services[1].context: "services" is not a directory`,
		}},
		{"dockerfile missing at default path", with(func(m fstest.MapFS) {
			delete(m, "services/web/Dockerfile")
			m["services/web/main.go"] = file("package main")
		}), []string{`slipway.yaml:4: services[0].dockerfile: "services/web/Dockerfile" does not exist in the commit`}},
		{"dockerfile missing at explicit path", with(func(m fstest.MapFS) {
			delete(m, "services/api/build/Dockerfile")
			m["services/api/build"] = dir
		}), []string{`slipway.yaml:8: services[1].dockerfile: "services/api/build/Dockerfile" does not exist in the commit`}},
		{"dockerfile is a directory", with(func(m fstest.MapFS) {
			delete(m, "services/web/Dockerfile")
			m["services/web/Dockerfile/x"] = file("x")
		}), []string{`slipway.yaml:4: services[0].dockerfile: "services/web/Dockerfile" is not a regular file`}},
		{"context is a symlink", with(func(m fstest.MapFS) {
			delete(m, "services/web/Dockerfile")
			m["services/web"] = link("/etc")
		}), []string{`slipway.yaml:4: services[0].context: "services/web" is a symbolic link`}},
		{"dockerfile is a symlink", with(func(m fstest.MapFS) {
			m["services/web/Dockerfile"] = link("../api/build/Dockerfile")
		}), []string{`slipway.yaml:4: services[0].dockerfile: "services/web/Dockerfile" is a symbolic link`}},
	}
	m, err := manifest.Parse([]byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Validate(tt.root)
			if got := problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
			if err != nil && !events.IsPermanent(err) {
				t.Errorf("error is not permanent: %v", err)
			}
		})
	}
}

// TestValidateDirFS checks a real checked-out tree, where a symbolic link
// out of the repository must be refused.
func TestValidateDirFS(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	mustWrite(t, filepath.Join(outside, "Dockerfile"), "FROM scratch\n")
	mustWrite(t, filepath.Join(root, "web", "Dockerfile"), "FROM scratch\n")
	if err := os.Symlink(outside, filepath.Join(root, "evil")); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse([]byte("version: 1\nservices:\n" +
		"  - {name: web, context: web, port: 80}\n" +
		"  - {name: evil, context: evil, port: 80}\n" +
		"  - {name: root, context: ., dockerfile: web/Dockerfile, port: 80}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`slipway.yaml:4: services[1].context: "evil" is a symbolic link`}
	if got := problems(m.Validate(os.DirFS(root))); !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got: %q\nwant: %q", got, want)
	}
}

func mustWrite(tb testing.TB, name, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}
