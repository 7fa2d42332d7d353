// Package memstore is the in-memory reference implementation of every
// Bulwark store interface.
//
// It is what the conformance suites (sessiontest, audittest, ...) are
// checked against first, what the examples and the host's unit tests use,
// and a fine choice for a single-process app that can lose its state on
// restart. Each store is a separate type with its own constructor
// (NewSessionStore, NewAuditStore, ...), safe for concurrent use, with one
// mutex per store so that every rule a store promises (single use, attempt
// limits, session limits) is applied atomically. Nothing is persisted.
//
// Time-based expiry is judged against the clock passed in by the calling
// package, never the wall clock, so tests with a simulated clock behave the
// same here as on PostgreSQL or Redis.
package memstore
