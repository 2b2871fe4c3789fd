package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
)

// runRegistryGC runs the operator's -registry-gc command (through sh -c)
// once `slipway gc` deleted manifests, so the registry frees their blobs:
// `registry garbage-collect <config>` of the Distribution registry, run
// where the registry's storage is (`docker exec <registry> registry
// garbage-collect /etc/docker/registry/config.yml`). Nothing runs when
// command is empty, on a dry run, or when nothing was deleted.
func runRegistryGC(ctx context.Context, command string, deleted int, dryRun bool, out io.Writer) error {
	if command == "" || dryRun || deleted == 0 {
		return nil
	}
	fmt.Fprintf(out, "==> registry garbage collection: %s\n", command)
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("registry garbage collection: %w", err)
	}
	return nil
}
