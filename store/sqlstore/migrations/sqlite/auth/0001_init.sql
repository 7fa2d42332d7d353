-- auth: username and device claims, brute-force counters, password-reset
-- tokens (SHA-256 only) and pending-MFA states (SHA-256 only).
CREATE TABLE bulwark_auth_claims (
    kind       TEXT   NOT NULL,
    claim_key  TEXT   NOT NULL,
    owner      TEXT   NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, claim_key)
) STRICT;

CREATE TABLE bulwark_auth_counters (
    counter_key  TEXT   PRIMARY KEY,
    failures     INTEGER NOT NULL,
    consecutive  INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL -- 0: never (permanent lock)
) STRICT;
CREATE INDEX bulwark_auth_counters_expires ON bulwark_auth_counters (expires_at);

CREATE TABLE bulwark_auth_windows (
    window_key TEXT   PRIMARY KEY,
    hits       INTEGER NOT NULL,
    window_end INTEGER NOT NULL
) STRICT;
CREATE INDEX bulwark_auth_windows_end ON bulwark_auth_windows (window_end);

CREATE TABLE bulwark_auth_reset_tokens (
    token_hash BLOB  PRIMARY KEY,
    user_id    TEXT   NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX bulwark_auth_reset_tokens_user ON bulwark_auth_reset_tokens (user_id);
CREATE INDEX bulwark_auth_reset_tokens_expires ON bulwark_auth_reset_tokens (expires_at);

CREATE TABLE bulwark_auth_pending (
    pending_hash BLOB  PRIMARY KEY,
    user_id      TEXT   NOT NULL,
    binding_hash BLOB  NOT NULL,
    enroll       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX bulwark_auth_pending_expires ON bulwark_auth_pending (expires_at);
