package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// usageError says how a command was called wrongly (a missing or an extra
// argument). It matches flag.ErrHelp, so ffcli asks for the command's usage,
// which run prints after the error line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Is makes a usageError match flag.ErrHelp.
func (e usageError) Is(target error) bool { return target == flag.ErrHelp }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}

// usageSink is the output of one command's flag set: it keeps nothing of
// what the flag package writes there (an error, the usage) and remembers
// the command, so run prints the error line first and then that usage.
type usageSink struct {
	cmd  *ffcli.Command
	last **ffcli.Command
}

func (s usageSink) Write(p []byte) (int, error) {
	*s.last = s.cmd
	return len(p), nil
}

// cli is the command tree with flags accepted anywhere on the line, as git
// and kubectl accept them: every leaf command parses the flags that follow
// its positional arguments too ("slipway rollback production -steps 2").
type cli struct {
	root *ffcli.Command
	// asked is the command whose flag set reported a parse error, or whose
	// usage was asked for.
	asked *ffcli.Command
}

// newCLI prepares root: each command's flag output goes to its usageSink
// and each leaf command's Exec gets its flags parsed anywhere.
func newCLI(root *ffcli.Command) *cli {
	c := &cli{root: root}
	c.prepare(root)
	return c
}

func (c *cli) prepare(cmd *ffcli.Command) {
	cmd.FlagSet.SetOutput(usageSink{cmd: cmd, last: &c.asked})
	for _, sub := range cmd.Subcommands {
		c.prepare(sub)
	}
	if len(cmd.Subcommands) == 0 && cmd.Exec != nil {
		exec, fs := cmd.Exec, cmd.FlagSet
		cmd.Exec = func(ctx context.Context, args []string) error {
			args, err := positional(fs, args)
			if err != nil {
				return err
			}
			return exec(ctx, args)
		}
	}
}

// run runs the command line args and returns the exit code: 0, 1 when the
// command failed, 2 when it was called wrongly (the error line first, then
// the command's usage, on stderr).
func (c *cli) run(ctx context.Context, args []string, stderr io.Writer) int {
	err := c.root.ParseAndRun(ctx, args)
	var usage usageError
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return 0
	case c.asked != nil && errors.Is(err, flag.ErrHelp) && !errors.As(err, &usage):
		fmt.Fprintln(stderr, ffcli.DefaultUsageFunc(c.asked))
		return 0
	case c.asked != nil:
		msg := strings.TrimPrefix(err.Error(), "error parsing commandline arguments: ")
		fmt.Fprintf(stderr, "%s: %s\n\n%s\n", c.asked.FlagSet.Name(), msg, ffcli.DefaultUsageFunc(c.asked))
		return 2
	default:
		fmt.Fprintf(stderr, "slipway: %v\n", err)
		return 1
	}
}
