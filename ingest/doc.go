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
//   - 405 for a method other than POST, 404 for an unknown forge, 413 for a
//     body over Config.MaxBodyBytes, 400 for a body naming no readable
//     repository;
//   - 403 (logged with the repository) when the repository has no secrets
//     and unknown repositories are not allowed; 401 when the signature or
//     token is missing or matches none of the repository's secrets (several
//     are tried, for rotation). A ping naming no repository (an organisation
//     hook, Bitbucket Server's "Test connection") is verified with any
//     configured secret;
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
// The forge's Parse is pure and runs first, to name the repository whose
// secrets verify the delivery; its result is acted on only once the delivery
// is verified. Nothing is published unless the delivery was verified. Bad
// input never causes a 5xx: a 5xx means JetStream could not be reached (or
// the delivery store could not catch up with it). Secrets are never logged or returned; the handler
// logs one structured line per delivery through zerolog.Ctx(r.Context()), so
// the caller attaches its logger to the request context (for instance with
// http.Server.BaseContext).
package ingest
