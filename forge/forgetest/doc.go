// Package forgetest is the conformance suite every forge.Forge passes, and the
// helpers forge tests share: golden files of parse outcomes and the
// invariants a parse result must satisfy (used by the fuzz tests).
//
// It is imported by tests only.
package forgetest
