-- primitives: the two storage building blocks other components' short-lived
-- security state is built on. Keys carry their owner's prefix ("mfa:...").
-- Times are microseconds since the Unix epoch.

-- Counters with expiry (attempt limits, throttles, locks).
CREATE TABLE IF NOT EXISTS bulwark_counters (
    k          TEXT PRIMARY KEY,
    n          INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS bulwark_counters_expires ON bulwark_counters (expires_at);

-- Single-use tokens, by the SHA-256 hash of their secret; the secret is
-- never stored.
CREATE TABLE IF NOT EXISTS bulwark_tokens (
    k          TEXT PRIMARY KEY,
    hash       BLOB NOT NULL,
    value      BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS bulwark_tokens_expires ON bulwark_tokens (expires_at);
