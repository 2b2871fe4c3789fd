package buildkit

// FailedStep implements build.FailedStepError: the step that failed and
// its last lines of output.
func (e *StepError) FailedStep() (string, []string) { return e.Step, e.Output }
