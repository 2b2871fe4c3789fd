package gitlab

import (
	"time"

	"github.com/slipway-dev/slipway/forge"
)

// Name is the name of the GitLab forge in routes, the registry and
// events.Repo.Forge.
const Name = "gitlab"

// Headers GitLab sends.
const (
	headerEvent          = "X-Gitlab-Event"
	headerToken          = "X-Gitlab-Token"
	headerEventUUID      = "X-Gitlab-Event-UUID"
	headerIdempotencyKey = "Idempotency-Key"
	headerWebhookID      = "webhook-id"
	headerTimestamp      = "webhook-timestamp"
	headerSignature      = "webhook-signature"
)

// Forge reads GitLab webhook deliveries. Build it with New.
type Forge struct {
	now func() time.Time
}

var _ forge.Forge = (*Forge)(nil)

// Option configures a Forge.
type Option func(*Forge)

// WithClock sets the clock Standard Webhooks timestamps are checked against.
func WithClock(now func() time.Time) Option { return func(f *Forge) { f.now = now } }

// New returns the GitLab forge.
func New(opts ...Option) *Forge {
	f := &Forge{now: time.Now}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name returns "gitlab".
func (*Forge) Name() string { return Name }

// Repo returns project.path_with_namespace from the unverified body.
func (*Forge) Repo(r forge.Request) (string, error) {
	var p struct {
		Project *project `json:"project"`
	}
	if err := forge.Decode(r.Body, &p); err != nil {
		return "", err
	}
	if p.Project == nil {
		return "", nil
	}
	return p.Project.PathWithNamespace, nil
}

// Verify checks X-Gitlab-Token and, when present, the Standard Webhooks
// signature against each secret.
func (f *Forge) Verify(r forge.Request, secrets [][]byte) error {
	return verify(r.Header, r.Body, secrets, f.now())
}

// Parse normalises a verified delivery.
func (*Forge) Parse(r forge.Request) (forge.Delivery, error) {
	evs, err := parse(r.Header.Get(headerEvent), r.Body)
	if err != nil {
		return forge.Delivery{}, err
	}
	id := forge.FirstHeader(r.Header, headerIdempotencyKey, headerEventUUID, headerWebhookID)
	return forge.NewDelivery(id, evs...), nil
}
