package registrytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// HelperName is the suffix of the credential helper MustCredentialHelper
// writes: docker-credential-slipwaytest.
const HelperName = "slipwaytest"

// MustCredentialHelper writes, into a directory of its own, a
// docker-credential-slipwaytest program implementing `get` of the Docker
// credential-helper protocol: it answers p.Host with User and password,
// every other host with "credentials not found", and appends each host it
// is asked for to the file calls. It prepends that directory to PATH for
// the rest of the test (so the test must not run in parallel).
func (p *Private) MustCredentialHelper(tb testing.TB, password string) (calls string) {
	tb.Helper()
	dir := tb.TempDir()
	calls = filepath.Join(dir, "calls")
	secret, _ := json.Marshal(map[string]string{"ServerURL": p.Host, "Username": p.User, "Secret": password})
	script := fmt.Sprintf(`#!/bin/sh
[ "$1" = get ] || { echo "unsupported: $1" >&2; exit 1; }
read -r host
echo "$host" >> %q
case "$host" in
%s|https://%s) printf '%%s\n' %q ;;
*) echo "credentials not found in native keychain"; exit 1 ;;
esac
`, calls, p.Host, p.Host, secret)
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+HelperName), []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return calls
}

// MustDockerConfig writes a Docker config.json into a directory of its own
// and returns its path. kind is "auths" (User and password inline),
// "credHelpers" (this registry through docker-credential-slipwaytest) or
// "credsStore" (every registry through it).
func (p *Private) MustDockerConfig(tb testing.TB, kind, password string) string {
	tb.Helper()
	var cfg map[string]any
	switch kind {
	case "auths":
		auth := base64.StdEncoding.EncodeToString([]byte(p.User + ":" + password))
		cfg = map[string]any{"auths": map[string]any{"https://" + p.Host: map[string]string{"auth": auth}}}
	case "credHelpers":
		cfg = map[string]any{"credHelpers": map[string]string{p.Host: HelperName}}
	case "credsStore":
		cfg = map[string]any{"credsStore": HelperName}
	default:
		tb.Fatalf("MustDockerConfig: unknown kind %q", kind)
	}
	b, _ := json.Marshal(cfg)
	path := filepath.Join(tb.TempDir(), "config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
