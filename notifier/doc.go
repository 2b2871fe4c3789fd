// Package notifier sends outgoing webhooks — Slack-compatible JSON or
// CloudEvents over HTTP (binary mode), signed with HMAC-SHA256 — when a
// deploy succeeds or fails (a rollback is a deploy of kind rollback) and
// when an event is dead-lettered. It runs on a consumer of its own
// (pipeline.ConsumerWebhooks): a slow or failing receiver is retried with
// backoff there and never delays a build or a deploy. The secret never
// reaches a log, an event or an error; a receiver's URL is logged without
// its credentials or query.
package notifier
