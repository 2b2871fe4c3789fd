// Package hosts decides which host names the proxy routes to which
// environment of which repository.
//
// Every service of every environment answers at its default host
// "<service>.<env>.<label>.<domain>", where label is its repository's host
// label: the last element of the repository's name as one DNS label
// ("acme/shop" → "shop"), or, when another repository holds that label
// already, the name and the owner ("other/shop" → "shop-other"). A label is
// taken by the first deploy of its repository and never changes, so
// default hosts of two repositories never collide.
//
// A host an environment declares in slipway.yaml (hosts:) is served only
// when the operator granted it to the repository (Grants, -host-grant
// owner/name=pattern,...; a pattern is a host name, or "*." and a host name
// for any one label in front of it). The first environment to claim a host
// keeps it: a deploy declaring a host another environment holds — of
// another repository, or another environment of the same one — fails for
// good, names the host and its holder, and changes nothing. A declared
// host may not look like a default host ("<a>.<b>.<c>.<domain>").
//
// Hosts an installation served before environments were scoped by
// repository (the "<service>.<env>.<domain>" names and the declared hosts
// of its one repository) are claimed for that repository at the upgrade
// (KindLegacy) and stay with it while its environment runs the service.
//
// Claims live in a Store (natsstore.HostStore, KV slipway_hosts); Claimer
// holds the rules and never touches a claim of another environment.
package hosts
