package pipeline

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/notifier"
)

// NotifyConfig configures the outgoing webhooks (package notifier).
type NotifyConfig struct {
	// Targets are the receivers (-notify-url, repeatable).
	Targets notifyTargets
	// SecretFile holds the HMAC secret signing every notification.
	SecretFile string
	// Backoff is the first retry's delay (then doubling up to 30s).
	Backoff time.Duration
}

// Bind binds the notifications' settings.
func (n *NotifyConfig) Bind(fs *flag.FlagSet) {
	fs.Var(&n.Targets, "notify-url", "[slack=|cloudevents=]URL receiving a webhook on each deploy succeeded or failed, rollback and dead letter (repeat; default format cloudevents)")
	fs.StringVar(&n.SecretFile, "notify-secret-file", n.SecretFile, "file holding the secret of the notifications' HMAC-SHA256 signature (header X-Slipway-Signature)")
}

type notifyTargets []notifier.Target

func (t *notifyTargets) String() string {
	out := make([]string, 0, len(*t))
	for _, x := range *t {
		out = append(out, string(x.Format)+"="+notifier.Redact(x.URL))
	}
	return strings.Join(out, ",")
}

func (t *notifyTargets) Set(v string) error {
	x, err := notifier.ParseTarget(v)
	if err != nil {
		return err
	}
	*t = append(*t, x)
	return nil
}

// sender returns the notifications' sender, its secret read from
// SecretFile.
func (n NotifyConfig) sender() (*notifier.Sender, error) {
	targets := append([]notifier.Target(nil), n.Targets...)
	if n.SecretFile != "" {
		b, err := os.ReadFile(n.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("notify secret: %w", err)
		}
		secret := strings.TrimSpace(string(b))
		if secret == "" {
			return nil, fmt.Errorf("notify secret: %s is empty", n.SecretFile)
		}
		for i := range targets {
			targets[i].Secret = secret
		}
	}
	return &notifier.Sender{Targets: targets, Client: &http.Client{Timeout: 15 * time.Second}, Backoff: n.Backoff}, nil
}

// runNotifier sends the notifications of consumer ConsumerWebhooks and of
// new dead letters until ctx ends; with no -notify-url it only acknowledges.
func runNotifier(ctx context.Context, cfg *Config, c *Conn) error {
	s, err := cfg.Notify.sender()
	if err != nil {
		return err
	}
	h := &notifier.Handler{Sender: s}
	if len(s.Targets) > 0 {
		go func() { _ = h.WatchDeadLetters(ctx, c.JS, 5*time.Second) }()
	}
	return c.runner(ctx, cfg).Run(ctx, routes(partWebhooks, handlers{cfg: cfg, webhooks: h})...)
}

var _ natsjs.HandlerFunc = (*notifier.Handler)(nil).Handle
