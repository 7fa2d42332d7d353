// Package memstore is the in-memory reference implementation of every
// Bulwark store interface.
//
// It is what the conformance suites (sessiontest, audittest, ...) are
// checked against first, what the examples and the host's unit tests use,
// and a fine choice for a single-process app that can lose its state on
// restart. Each store has its own constructor, which returns the core
// package's store interface ([NewSessionStore] a [session.Store],
// [NewAuditStore] an [audit.Store], ...); the types behind them are
// unexported. Optional interfaces are found by a type assertion, as the
// managers do: the session store is also a [session.Cleaner]. Only
// [NewAuthStore] returns a memstore interface, [AuthStore], for the
// PurgeAuth a long-running host calls, and [Tokens] stays a concrete type,
// having no interface outside the test-support package storetest. Each
// store is safe for concurrent use, with one mutex per store so that every
// rule a store promises (single use, attempt limits, session limits) is
// applied atomically. Nothing is persisted.
//
// Time-based expiry is judged against the clock passed in by the calling
// package, never the wall clock, so tests with a simulated clock behave the
// same here as on PostgreSQL or Redis.
package memstore
