package build

import "context"

// Log receives a build's progress while it runs: its steps and the lines
// they print (buildlog.Writer). Calls come from one goroutine.
type Log interface {
	// Step reports a step's status: "started", "done", "cached" or
	// "error".
	Step(name, status string)
	// Line is one line a step printed.
	Line(step, text string)
}

// Logs opens the log of one service's build of a commit (buildlog.Logs).
type Logs interface {
	// Open starts the log; end records the build's result ("succeeded",
	// "failed") and flushes it.
	Open(ctx context.Context, repo, sha, service string) (log Log, end func(result string))
}
