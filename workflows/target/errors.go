package target

import "errors"

// ErrNotLive is wrapped by ResolveAll's error when a service has no running
// live replica.
var ErrNotLive = errors.New("no live container")
