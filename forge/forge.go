package forge

import (
	"errors"
	"net/http"

	"github.com/slipway-dev/slipway/events"
)

// Errors returned by forges. Callers match them with errors.Is.
var (
	// ErrMissingSignature means the delivery carries no signature at all:
	// the hook has no secret configured, or the request is not from the host.
	ErrMissingSignature = errors.New("missing signature")
	// ErrBadSignature means a signature is present but matches none of the
	// secrets, or is not in the expected form.
	ErrBadSignature = errors.New("bad signature")
	// ErrMalformed means the body or a required header cannot be understood.
	ErrMalformed = errors.New("malformed delivery")
)

// Request is what a forge needs from an HTTP delivery: its headers and the
// raw body exactly as received (signatures cover these bytes).
type Request struct {
	Header http.Header
	Body   []byte
}

// Delivery is a verified, parsed webhook.
type Delivery struct {
	// ID is the host's delivery id header (e.g. X-GitHub-Delivery); empty if
	// the host sent none.
	ID string
	// Event is the normalised event, for now always an *events.PushReceived.
	Event events.Event
}

// Forge turns deliveries of one family of git hosts into events. See the
// package documentation for the contract of each method.
type Forge interface {
	// Name is the forge's route and registry name, and the Forge field of
	// the events.Repo it produces: "github", "gitea".
	Name() string
	// Repo returns the repository full name ("owner/name") the delivery is
	// about, read from the unverified body, or "" when the body names no
	// repository (an organisation-level hook). A body that is not a payload
	// of this forge is an error wrapping ErrMalformed.
	Repo(r Request) (string, error)
	// Verify checks the delivery's signature against each of secrets.
	Verify(r Request, secrets [][]byte) error
	// Parse normalises a verified delivery.
	Parse(r Request) (Delivery, error)
}

// Aliaser is implemented by a forge that also serves other route names, such
// as the gitea forge answering for "forgejo" and "gogs".
type Aliaser interface {
	Aliases() []string
}

// NewDelivery returns a Delivery of e, copying id into the event's delivery
// id field when it has one.
func NewDelivery(id string, e events.Event) Delivery {
	if p, ok := e.(*events.PushReceived); ok {
		p.DeliveryID = id
	}
	return Delivery{ID: id, Event: e}
}
