// Package ingest is Slipway's webhook receiver: an http.Handler that turns a
// git host's delivery into a published event, or into an answer that tells
// the host why not.
//
// Routes: POST /webhooks/{forge} for every name in the forge.Registry
// ("github", "gitea", and the gitea forge's aliases "forgejo" and "gogs"), and
// GET /healthz.
//
// For a delivery the handler guarantees, in this order:
//
//   - 405 for a method other than POST, 404 for an unknown forge, 413 for a
//     body over Config.MaxBodyBytes, 400 for a body naming no readable
//     repository;
//   - 403 when the repository has no secrets and unknown repositories are not
//     allowed; 401 when the signature is missing or matches none of the
//     repository's secrets (several are tried, for rotation);
//   - 400 for a verified but malformed delivery; 200 for a ping; 202 with
//     {"status":"ignored","reason":...} for a delivery Slipway chose not to act
//     on (the host must not retry those);
//   - otherwise the event is stamped with the time it was received and handed
//     to the Publisher, and 202 {"status":"accepted","id":<dedup key>,
//     "duplicate":bool} is answered only after Publish returned nil, that is
//     after JetStream acknowledged it; a publish error is 503 so that the host
//     (or an operator's redelivery) tries again, and the dedup key makes that
//     retry harmless.
//
// Nothing is published unless the signature was verified. Bad input never
// causes a 5xx. Secrets are never logged or returned; the handler logs one
// structured line per delivery through zerolog.Ctx(r.Context()), so the
// caller attaches its logger to the request context (for instance with
// http.Server.BaseContext).
package ingest
