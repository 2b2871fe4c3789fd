// Package proxy gives every service of every environment a stable URL while
// its containers come and go.
//
// A request for host "<service>.<env>.<label>.<domain>" (any port) is
// forwarded to the address a Resolver returns for the repository whose host
// label is label (HostTable.Repo), env and service; with the default domain
// "localhost", http://web.staging.shop.localhost:8080/ reaches the web
// service of the staging of acme/shop. The hosts environments claimed
// (HostTable.Lookup) route first. When the Resolver is a MultiResolver (a service with several
// replicas), requests go to its addresses in turn (round robin). Resolutions
// are cached for a short TTL. When dialling a cached
// address fails (its container was just replaced) the proxy resolves again
// once and dials the new address; the request body is never sent twice. A
// Resolver that fails is asked again once after a short pause, which covers
// the instant during which a deploy swaps container names. A Resolver that
// is also a Dialer (target.Placement) is the only way the proxy connects to
// its addresses, so a replica on another machine is reached the way its
// target says.
//
// Contract: a host that is neither claimed nor of the form
// "<service>.<env>.<label>.<domain>" of a known label is answered 404; a service with no live container, or
// one that cannot be reached, 502. Both bodies say why in one plain line. The
// proxy adds X-Forwarded-For, -Host and -Proto and nothing else; it keeps
// the Host header the client sent. It never caches responses.
package proxy
