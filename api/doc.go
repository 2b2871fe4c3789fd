// Package api is Slipway's HTTP API (/api/v1/...): JSON views of the read
// model (package readmodel) and the operator's actions (package actions),
// behind bearer tokens of two roles. A read token reads; a deploy token
// reads and acts. Tokens are stored as their SHA-256 only (Tokens), compared
// in constant time, and never logged or echoed; every action records the
// token's name as its actor.
package api
