package buildkit

import (
	"context"
	"regexp"
	"time"

	"github.com/docker/cli/cli/config/types"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
)

// WithRegistry makes builds reach registries as a says: its credentials
// are handed to buildkitd through the session's auth provider whenever a
// registry (the push target, the cache, a base image) asks for them, and a
// loopback registry gets plain HTTP only as a.PlainHTTP says. buildkitd
// itself verifies the registry's certificate: a custom CA goes into its
// buildkitd.toml ([registry."host:port"] ca = [...]).
func WithRegistry(a registry.Access) Option {
	return func(b *Builder) error {
		if err := a.Validate(); err != nil {
			return err
		}
		b.access = a
		return nil
	}
}

// authSession is the session attachable answering buildkitd's credential
// and token requests for the hosts of b.access; the CA file also verifies a
// token service reached from this process for pushHost.
func (b *Builder) authSession(pushHost string) session.Attachable {
	var tlsConfigs map[string]*authprovider.AuthTLSConfig
	if b.access.CAFile != "" {
		tlsConfigs = map[string]*authprovider.AuthTLSConfig{pushHost: {RootCAs: []string{b.access.CAFile}}}
	}
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: b.authConfig,
		TLSConfigs:         tlsConfigs,
		// Credentials are looked up again after a minute, so a rotated
		// password or a helper's new token is picked up by the next build.
		ExpireCachedAuth: func(created time.Time, _ string) bool { return time.Since(created) > time.Minute },
	})
}

// authConfig answers buildkitd's request for the credentials of host.
func (b *Builder) authConfig(_ context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
	cred, ok, err := b.access.Credentials.Lookup(host)
	if err != nil || !ok {
		return types.AuthConfig{}, err
	}
	return types.AuthConfig{ServerAddress: host, Username: cred.Username, Password: cred.Password, IdentityToken: cred.IdentityToken}, nil
}

// refusal fragments are how buildkitd (containerd's resolver) reports a
// registry that did not accept the credentials it sent or the lack of any.
var refusal = []string{
	"401 unauthorized", "403 forbidden", "failed to authorize", "no basic auth credentials",
	"authentication required", "unauthorized:", "insufficient_scope",
}

// untrusted fragments are a registry certificate no trusted CA signed.
var untrusted = []string{
	"certificate signed by unknown authority", "failed to verify certificate",
	"certificate is not trusted", "x509:",
}

// urlHost finds the host of the first URL in a message.
var urlHost = regexp.MustCompile(`https?://([^/\s"']+)`)

// registryFault returns the policy-carrying error of a build refused by a
// registry or failing on its certificate, or nil for any other failure.
// The registry is the one the message names, else the image's.
func (b *Builder) registryFault(err error, image string) error {
	msg := err.Error()
	host := ""
	if m := urlHost.FindStringSubmatch(msg); m != nil {
		host = m[1]
	} else if h, herr := registry.Host(image); herr == nil {
		host = h
	}
	switch {
	case containsAny(msg, refusal):
		_, sent, _ := b.access.Credentials.Lookup(host)
		return events.Permanent(&registry.RefusedError{Host: host, Sent: sent, Err: bounded{err}})
	case containsAny(msg, untrusted):
		return events.Permanent(&registry.UntrustedError{Host: host, By: "buildkitd", Err: bounded{err}})
	case containsAny(msg, []string{"registry credentials for"}):
		return events.Permanent(bounded{err}) // a credential helper that failed
	}
	return nil
}

// bounded is an error whose message is cut to what a BuildFailed reason
// holds, free of control characters.
type bounded struct{ err error }

func (e bounded) Error() string { return excerpt(e.err.Error(), maxMessage) }
func (e bounded) Unwrap() error { return e.err }
