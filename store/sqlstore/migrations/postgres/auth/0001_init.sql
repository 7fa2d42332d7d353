-- auth: username and device claims, brute-force counters, password-reset
-- tokens (SHA-256 only) and pending-MFA states (SHA-256 only).
CREATE TABLE bulwark_auth_claims (
    kind       TEXT   NOT NULL,
    claim_key  TEXT   NOT NULL,
    owner      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, claim_key)
);

CREATE TABLE bulwark_auth_counters (
    counter_key  TEXT   PRIMARY KEY,
    failures     BIGINT NOT NULL,
    consecutive  BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL -- 0: never (permanent lock)
);
CREATE INDEX bulwark_auth_counters_expires ON bulwark_auth_counters (expires_at);

CREATE TABLE bulwark_auth_windows (
    window_key TEXT   PRIMARY KEY,
    hits       BIGINT NOT NULL,
    window_end BIGINT NOT NULL
);
CREATE INDEX bulwark_auth_windows_end ON bulwark_auth_windows (window_end);

CREATE TABLE bulwark_auth_reset_tokens (
    token_hash BYTEA  PRIMARY KEY,
    user_id    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX bulwark_auth_reset_tokens_user ON bulwark_auth_reset_tokens (user_id);
CREATE INDEX bulwark_auth_reset_tokens_expires ON bulwark_auth_reset_tokens (expires_at);

CREATE TABLE bulwark_auth_pending (
    pending_hash BYTEA  PRIMARY KEY,
    user_id      TEXT   NOT NULL,
    binding_hash BYTEA  NOT NULL,
    enroll       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX bulwark_auth_pending_expires ON bulwark_auth_pending (expires_at);
