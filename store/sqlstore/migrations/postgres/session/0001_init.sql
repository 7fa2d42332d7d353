-- Sessions, keyed by the SHA-256 of their token; the token is never stored.
CREATE TABLE bulwark_session_sessions (
    id              TEXT PRIMARY KEY,
    token_hash      BYTEA NOT NULL UNIQUE,
    user_id         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    absolute_expiry BIGINT NOT NULL,
    auth_time       BIGINT NOT NULL,
    factors         TEXT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    remember_family TEXT NOT NULL
);
-- The per-user index: listing, revoking and the session limit cost
-- O(that user's sessions).
CREATE INDEX bulwark_session_sessions_user ON bulwark_session_sessions (user_id, created_at);
-- Batched cleanup of expired sessions.
CREATE INDEX bulwark_session_sessions_expires ON bulwark_session_sessions (expires_at);

-- Remember-me tokens, one row per token ever issued in a family until the
-- family expires, so that the reuse of an old token is recognised.
CREATE TABLE bulwark_session_remember (
    token_hash BYTEA PRIMARY KEY,
    family     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL
);
CREATE INDEX bulwark_session_remember_family ON bulwark_session_remember (family);
CREATE INDEX bulwark_session_remember_user ON bulwark_session_remember (user_id);
CREATE INDEX bulwark_session_remember_expires ON bulwark_session_remember (expires_at);
