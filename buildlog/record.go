package buildlog

import "time"

// Kind is what a record of a log says.
type Kind string

// The kinds of records.
const (
	KindBegin     Kind = "begin"
	KindStep      Kind = "step"
	KindLine      Kind = "line"
	KindTruncated Kind = "truncated"
	KindEnd       Kind = "end"
)

// Record is one message of a build's log.
type Record struct {
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Step names the step of a step or line record, Status a step's
	// status ("started", "done", "cached", "error").
	Step   string `json:"step,omitempty"`
	Status string `json:"status,omitempty"`
	// Text is a line's text, or what a truncation dropped.
	Text string `json:"text,omitempty"`
	// Result is the build's result on the end record.
	Result string `json:"result,omitempty"`
}
