package faulttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Binaries are the paths of Slipway's single-component commands.
type Binaries struct{ Ingest, Builder, Deployer string }

var (
	binOnce sync.Once
	binDir  string
	bins    Binaries
	binErr  error
)

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// MustBinaries builds cmd/ingest, cmd/builder and cmd/deployer once per test
// process.
func MustBinaries(tb testing.TB) Binaries {
	tb.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "slipway-faulttest-")
		if binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "./cmd/ingest", "./cmd/builder", "./cmd/deployer")
		cmd.Dir = Root()
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = &buildError{err: err, out: strings.TrimSpace(string(out))}
			return
		}
		bins = Binaries{
			Ingest:   filepath.Join(binDir, "ingest"),
			Builder:  filepath.Join(binDir, "builder"),
			Deployer: filepath.Join(binDir, "deployer"),
		}
	})
	if binErr != nil {
		tb.Fatalf("build slipway binaries: %v", binErr)
	}
	return bins
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// Main runs the tests of a package, then removes the binaries it built.
func Main(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Missing skips the test because a component is not there, or fails it
// with CI=true.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format+" (run scripts/setup.sh)", args...)
	}
	tb.Skipf(format+" (run scripts/setup.sh)", args...)
}
