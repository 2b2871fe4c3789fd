package forge

import (
	"errors"
	"net/http"

	"github.com/slipway-dev/slipway/events"
)

// Errors returned by forges. Callers match them with errors.Is.
var (
	// ErrMissingSignature means the delivery carries no signature or token
	// at all: the hook has no secret configured, or the request is not from
	// the host.
	ErrMissingSignature = errors.New("missing signature")
	// ErrBadSignature means a signature or token is present but matches none
	// of the secrets, or is not in the expected form.
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
	// ID identifies the delivery at the host and stays the same when the
	// host redelivers it (X-GitHub-Delivery, X-Gitea-Delivery, GitLab's
	// Idempotency-Key, Bitbucket's X-Request-UUID, Azure DevOps' event id,
	// ...). It is empty when the host sent none. Receivers record it to
	// refuse redeliveries.
	ID string
	// Events are the normalised events, at least one: a push of several
	// refs (Bitbucket, Azure DevOps) is one event per ref. Each is one of
	// *events.PushReceived, *events.BranchDeleted, *events.TagPushed,
	// *events.TagDeleted or *events.PullRequestChanged.
	Events []events.Event
}

// Forge turns deliveries of one family of git hosts into events. See the
// package documentation for the contract of each method.
type Forge interface {
	// Name is the forge's route and registry name, and the Forge field of
	// the events.Repo it produces: "github", "gitea", "gitlab", ...
	Name() string
	// Repo returns the repository full name ("owner/name") the delivery is
	// about, read from the unverified body, or "" when the body names no
	// repository (an organisation-level hook). A body that is not a payload
	// of this forge is an error wrapping ErrMalformed.
	Repo(r Request) (string, error)
	// Verify checks the delivery's signature or token against each of
	// secrets.
	Verify(r Request, secrets [][]byte) error
	// Parse normalises a verified delivery.
	Parse(r Request) (Delivery, error)
}

// Aliaser is implemented by a forge that also serves other route names, such
// as the gitea forge answering for "forgejo" and "gogs".
type Aliaser interface {
	Aliases() []string
}

// NewDelivery returns a Delivery of evs, copying id into each event's
// delivery id field.
func NewDelivery(id string, evs ...events.Event) Delivery {
	for _, e := range evs {
		switch e := e.(type) {
		case *events.PushReceived:
			e.DeliveryID = id
		case *events.BranchDeleted:
			e.DeliveryID = id
		case *events.TagPushed:
			e.DeliveryID = id
		case *events.TagDeleted:
			e.DeliveryID = id
		case *events.PullRequestChanged:
			e.DeliveryID = id
		}
	}
	return Delivery{ID: id, Events: evs}
}

// One returns e as the only event of a parse, or err.
func One(e events.Event, err error) ([]events.Event, error) {
	if err != nil {
		return nil, err
	}
	return []events.Event{e}, nil
}
