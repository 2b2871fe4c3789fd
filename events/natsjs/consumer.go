package natsjs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// HandlerFunc processes one event. Its error decides the message's fate: nil
// or a permanent error acknowledges it, an events.RetryableError redelivers
// it after its After, anything else redelivers it after a backoff of 1s, 2s,
// 4s … up to a minute.
type HandlerFunc func(ctx context.Context, env events.Envelope) error

// Route binds a durable consumer (one of the Consumer* names) to a handler.
type Route struct {
	Consumer string
	Handler  HandlerFunc
	// Workers is how many messages of the consumer this process handles
	// at once (default 1), each on a subscription of its own.
	Workers int
}

// Runner consumes routes through a watermill router until its context ends.
type Runner struct {
	// Connect opens a new connection; each route gets its own, as
	// watermill's subscriber drains its connection on close.
	Connect func() (*nats.Conn, error)
	// Conn sends in-progress acknowledgements.
	Conn    *nats.Conn
	Log     zerolog.Logger
	AckWait time.Duration
	// CloseTimeout bounds the drain of in-flight handlers at shutdown.
	CloseTimeout time.Duration
}

// Run blocks until ctx is cancelled, then drains.
func (r *Runner) Run(ctx context.Context, routes ...Route) error {
	logger := NewLogger(r.Log)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: r.CloseTimeout}, logger)
	if err != nil {
		return fmt.Errorf("new router: %w", err)
	}
	var subs []message.Subscriber
	defer func() {
		for _, s := range subs {
			_ = s.Close()
		}
	}()
	for _, rt := range routes {
		for i := range max(rt.Workers, 1) {
			delay := &nakDelay{}
			sub, err := r.subscriber(logger, delay)
			if err != nil {
				return err
			}
			subs = append(subs, sub)
			router.AddConsumerHandler(fmt.Sprintf("%s-%d", rt.Consumer, i), rt.Consumer, sub, r.wrap(rt.Consumer, rt.Handler, delay))
		}
	}
	if err := router.Run(ctx); err != nil {
		return fmt.Errorf("run router: %w", err)
	}
	return nil
}

// subscriber returns a watermill subscriber on a connection of its own,
// naking its messages after delay.
func (r *Runner) subscriber(logger watermill.LoggerAdapter, delay *nakDelay) (message.Subscriber, error) {
	nc, err := r.Connect()
	if err != nil {
		return nil, fmt.Errorf("connect subscriber: %w", err)
	}
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:                nc,
		Logger:              logger,
		AckWaitTimeout:      24 * time.Hour, // JetStream's AckWait and in-progress acks decide, not watermill
		ResourceInitializer: bindConsumer,
		NakDelay:            delay,
		Unmarshaler:         unmarshaler{},
		ConsumeOptions:      []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)},
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("new subscriber: %w", err)
	}
	return sub, nil
}

// bindConsumer binds to the durable consumer named by the topic; Provision
// created it.
func bindConsumer(ctx context.Context, js jetstream.JetStream, topic string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
	c, err := js.Consumer(ctx, StreamName, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("bind consumer %s: %w", topic, err)
	}
	return c, nil, nil
}

// wrap adapts h to watermill: it decodes the envelope, keeps the message
// alive while h runs, and turns h's error into the message's fate, telling
// delay when to redeliver it.
func (r *Runner) wrap(name string, h HandlerFunc, delay *nakDelay) message.NoPublishHandlerFunc {
	return func(wm *message.Message) error {
		log := r.Log.With().Str("consumer", name).Str("event", wm.Metadata.Get(HeaderID)).
			Str("delivered", wm.Metadata.Get(metaDelivered)).Logger()
		env, err := envelopeOf(wm)
		if err != nil {
			log.Error().Err(err).Msg("dropping undecodable message")
			return nil
		}
		ctx := withStored(log.WithContext(wm.Context()), wm)
		stop := r.keepAlive(ctx, wm.Metadata.Get(metaReply))
		err = h(ctx, env)
		stop()
		err = r.policy(log, err)
		delay.set(err)
		return err
	}
}

// policy turns a handler's error into the message's fate.
func (r *Runner) policy(log zerolog.Logger, err error) error {
	var ignored *events.IgnoredError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, events.ErrAlreadyDone), errors.As(err, &ignored):
		log.Debug().Err(err).Msg("nothing to do")
		return nil
	case events.IsPermanent(err):
		log.Error().Err(err).Msg("permanent failure, not retried")
		return nil
	default:
		log.Warn().Err(err).Msg("will retry")
		return err
	}
}

// keepAlive tells JetStream the message is still being worked on, so a long
// build stays with its worker while the worker lives.
func (r *Runner) keepAlive(ctx context.Context, reply string) (stop func()) {
	if reply == "" || r.Conn == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = r.Conn.Publish(reply, []byte("+WPI"))
			}
		}
	}()
	return func() { cancel(); <-done }
}

// nakDelay is the redelivery delay of the messages of one subscriber: the
// After of the events.RetryableError its handler returned, else backoff.
// watermill asks it for the delay of the message it naks, knowing only how
// often that message was delivered; a subscriber handles one message at a
// time (PullMaxMessages(1), and jetstream's Consume calls back in order), so
// the error its handler returned last is that message's.
type nakDelay struct{ after atomic.Int64 }

var _ wmjs.Delay = (*nakDelay)(nil)

// set records the delay err asks for: its RetryableError's After, or none.
func (d *nakDelay) set(err error) {
	var r *events.RetryableError
	if errors.As(err, &r) && r.After > 0 {
		d.after.Store(int64(r.After))
		return
	}
	d.after.Store(0)
}

// WaitTime implements watermill-nats' jetstream.Delay.
func (d *nakDelay) WaitTime(delivered uint64) time.Duration {
	if after := time.Duration(d.after.Swap(0)); after > 0 {
		return after
	}
	return backoff{}.WaitTime(delivered)
}

// backoff redelivers after 1s, 2s, 4s … up to a minute.
type backoff struct{}

func (backoff) WaitTime(delivered uint64) time.Duration {
	if delivered > 7 {
		return time.Minute
	}
	d := time.Second << (delivered - 1)
	if delivered == 0 {
		d = time.Second
	}
	return min(d, time.Minute)
}
