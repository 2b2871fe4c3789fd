package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/registry"
)

// TestRegistryAuthFlag parses -registry-auth and loads its passwords from
// files and the environment; every bad value is an error naming the host
// and never the password (nor a path that could be one given by mistake).
func TestRegistryAuthFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("s3cret-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLIPWAY_TEST_REGISTRY_PW", "s3cret-env")
	tests := []struct {
		name     string
		value    string
		wantPass string
		wantErr  string
	}{
		{"password file", "reg.example.com:5443=ci:" + file, "s3cret-file", ""},
		{"environment variable", "reg.example.com=ci:env:SLIPWAY_TEST_REGISTRY_PW", "s3cret-env", ""},
		{"password given instead of a file", "reg.example.com=ci:hunter2-inline", "", "-registry-auth reg.example.com: password file: no such file"},
		{"empty file", "reg.example.com=ci:" + empty, "", "password file is empty"},
		{"unset variable", "reg.example.com=ci:env:SLIPWAY_TEST_UNSET", "", "environment variable SLIPWAY_TEST_UNSET is empty or unset"},
		{"no user", "reg.example.com=" + file, "", "want host=user:password-file"},
		{"no host", "=ci:" + file, "", "want host=user:password-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r RegistryAuth
			err := r.Hosts.Set(tt.value)
			if err == nil {
				if s := r.Hosts.String(); strings.Contains(s, "s3cret") {
					t.Errorf("String() = %q shows a password", s)
				}
				var access registry.Access
				if access, err = r.Access(); err == nil {
					host := tt.value[:strings.Index(tt.value, "=")]
					cred, ok, lerr := access.Credentials.Lookup(host)
					if lerr != nil || !ok || cred.Password != tt.wantPass || cred.Username != "ci" {
						t.Fatalf("Lookup(%s) = %v, %v, %v; want ci with %q", host, cred, ok, lerr, tt.wantPass)
					}
					return
				}
			}
			if tt.wantErr == "" {
				t.Fatalf("error %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}
