// Package ingest is Slipway's webhook receiver: an http.Handler that turns a
// git host's delivery into published events, or into an answer that tells
// the host why not.
//
// Routes: POST /webhooks/{forge} for every name in the forge.Registry (the
// pipeline registers github, gitea with its aliases forgejo and gogs, gitlab,
// bitbucket, bitbucketserver, azuredevops and generic), and GET /healthz.
//
// For a delivery the handler guarantees, in this order:
//
//   - 405 for a method other than POST, 404 for an unknown forge; 503 with
//     Retry-After when Config.MaxConcurrentBodies deliveries are being
//     handled and none ends within Config.QueueWait, or when reading the
//     body would take the bytes held by them past Config.MaxBytesInFlight
//     (so that held or slow uploads cost bounded memory); 413 for a body
//     over Config.MaxBodyBytes, 400 for an empty body;
//   - 401 when the signature or token is missing or matches none of the
//     configured secrets (every repository's, and the fallback when unknown
//     repositories are allowed). This is checked over the raw bytes before
//     any of them is parsed, since the body is what names the repository;
//   - 400 for a verified body naming no readable repository; 403 (logged
//     with the repository) when the repository it names has no secrets and
//     unknown repositories are not allowed; 401 when it was signed with
//     another repository's secret (or with the fallback secret, for a
//     configured repository). Several secrets per repository are tried, for
//     rotation. A ping naming no repository (an organisation hook,
//     Bitbucket Server's "Test connection") verified with any configured
//     secret is answered 200;
//   - 400 for a verified but malformed delivery; 200 for a ping; 202 with
//     {"status":"ignored","reason":...} for a delivery Slipway chose not to
//     act on (the host must not retry those);
//   - 202 {"status":"accepted","id":<dedup key>,"duplicate":true} without
//     publishing anything when the delivery id was recorded before, by this
//     receiver or another (a redelivery, however late within the store's
//     retention); one racing another receiver's record by a moment is
//     published, refused as a duplicate by JetStream, and answered alike;
//   - otherwise every event of the delivery is completed (the time received,
//     the configured default branch when the host names none) and handed,
//     in order, to the Publisher, the last one to Deliveries.Publish with the
//     delivery id; 202 {"status":"accepted","id":<dedup key of the
//     first>,"ids":[...] (when several),"duplicate":bool} is answered only
//     after each returned nil, that is after JetStream acknowledged them.
//     The last event's acknowledgement records the delivery (when
//     JetStream answers it was a duplicate, Deliveries.Record records it
//     apart), so a publish error (answered 503 so that the host, or an
//     operator's redelivery, tries again) never makes the retry look like a
//     duplicate. The dedup keys make a retry of a partly published delivery
//     harmless.
//
// No byte of an unverified body is parsed, and the forges refuse payloads
// nesting deeper than forge.MaxDepth (400) before decoding them: the JSON
// decoder recurses per level, and a stack overflow is a fatal error that no
// recover catches. A panic while serving a request (a bug) is logged and
// answered 500. Nothing is published unless the delivery was verified. Bad
// input never causes a 5xx: a 5xx means JetStream could not be reached (or
// the delivery store could not catch up with it), the receiver is at its
// limits, or a bug. Secrets are never logged or returned; the handler
// logs one structured line per delivery through zerolog.Ctx(r.Context()), so
// the caller attaches its logger to the request context (for instance with
// http.Server.BaseContext).
package ingest
