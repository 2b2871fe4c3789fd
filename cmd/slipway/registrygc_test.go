package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistryGCRunsAfterDeletions: the -registry-gc command runs once
// manifests were deleted, never on a dry run or when nothing was deleted,
// and its failure is the command's.
func TestRegistryGCRunsAfterDeletions(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "collected")
	command := "echo collected >> " + marker
	ctx := context.Background()
	var out bytes.Buffer
	for _, tt := range []struct {
		deleted int
		dryRun  bool
	}{{0, false}, {3, true}, {3, false}} {
		if err := runRegistryGC(ctx, command, tt.deleted, tt.dryRun, &out); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(marker)
	if got := strings.Count(string(b), "collected"); got != 1 {
		t.Errorf("ran %d times, want once (after real deletions): %s", got, out.String())
	}
	if err := runRegistryGC(ctx, "exit 3", 1, false, &out); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing command: %v", err)
	}
}
