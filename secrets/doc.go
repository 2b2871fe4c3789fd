// Package secrets seals the values of deployment secrets with age
// (filippo.io/age, X25519) and opens them again.
//
// Sealing needs only a recipient, the public half of the key: an
// operator's command seals a value with the recipient published in
// JetStream and can never open it again. Opening needs the identity, the
// private half, which lives in a key file outside NATS (KeyFile, 0600,
// written by EnsureKey) and is read by the deployer only.
//
// Errors name the key file and the recipient, never a value or the
// identity.
package secrets
