-- mfa: second factors. Secrets are sealed (secret), codes hashed
-- (code_hash); nothing here is usable in clear. Times are microseconds.

-- One TOTP enrollment per user, pending while confirmed_at = 0.
CREATE TABLE IF NOT EXISTS bulwark_mfa_totp (
    user_id      TEXT PRIMARY KEY,
    id           TEXT NOT NULL,
    secret       BYTEA NOT NULL,
    algorithm    TEXT NOT NULL,
    digits       INTEGER NOT NULL,
    period_s     INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT NOT NULL DEFAULT 0
);

-- The last TOTP time step accepted per user (replay protection).
CREATE TABLE IF NOT EXISTS bulwark_mfa_totp_steps (
    user_id TEXT PRIMARY KEY,
    step    BIGINT NOT NULL
);

-- Attempt counters and locks per user and factor.
CREATE TABLE IF NOT EXISTS bulwark_mfa_attempts (
    user_id      TEXT NOT NULL,
    factor       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    locked_until BIGINT NOT NULL,
    PRIMARY KEY (user_id, factor)
);

-- At most one emailed code per user and purpose.
CREATE TABLE IF NOT EXISTS bulwark_mfa_oob (
    user_id    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    id         TEXT NOT NULL,
    salt       BYTEA NOT NULL,
    code_hash  BYTEA NOT NULL,
    attempts   INTEGER NOT NULL,
    sent_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, purpose)
);
CREATE INDEX IF NOT EXISTS bulwark_mfa_oob_expires ON bulwark_mfa_oob (expires_at);

-- SHA-256 hashes of unused recovery codes.
CREATE TABLE IF NOT EXISTS bulwark_mfa_recovery_codes (
    user_id    TEXT NOT NULL,
    code_hash  BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
