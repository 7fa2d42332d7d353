-- bulwark_keyring_keys holds the keyring's data keys (subject '') and the
-- per-subject keys used for crypto-shredding, only ever wrapped by the
-- host's key-encryption key. Key ids are unsigned 32-bit values.
CREATE TABLE IF NOT EXISTS bulwark_keyring_keys (
    subject    TEXT   NOT NULL,
    id         BIGINT NOT NULL CHECK (id >= 0 AND id <= 4294967295),
    state      TEXT   NOT NULL CHECK (state IN ('primary', 'enabled', 'disabled')),
    wrapped    BYTEA  NOT NULL,
    uses       BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (subject, id)
);
-- At most one primary per subject: one primary data key for the keyring,
-- and one key per subject (subject keys are always primary). This holds
-- even if two processes promote at the same moment.
CREATE UNIQUE INDEX IF NOT EXISTS bulwark_keyring_keys_one_primary
    ON bulwark_keyring_keys (subject) WHERE state = 'primary';
