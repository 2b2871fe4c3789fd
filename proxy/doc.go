// Package proxy gives every service of every environment a stable URL while
// its containers come and go.
//
// A request for host "<service>.<env>.<domain>" (any port) is forwarded to the
// addresses a Resolver returns for env and service, in turn (round robin
// over the replicas); with the default domain "localhost",
// http://web.staging.localhost:8080/ reaches the web service of staging. Resolutions
// are cached for a short TTL. When dialling a cached
// address fails (its container was just replaced) the proxy resolves again
// once and dials the new address; the request body is never sent twice. A
// Resolver that fails is asked again once after a short pause, which covers
// the instant during which a deploy swaps container names.
//
// Contract: a host outside the domain, or not of the form
// "<service>.<env>", is answered 404; a service with no live container, or
// one that cannot be reached, 502. Both bodies say why in one plain line. The
// proxy adds X-Forwarded-For, -Host and -Proto and nothing else; it keeps
// the Host header the client sent. It never caches responses.
package proxy
