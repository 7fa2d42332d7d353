-- users: a reference users table for auth (auth.CredentialStore), for
-- hosts that do not have their own yet. username_key is auth.UsernameKey
-- of the username, email_key the trimmed, lower-cased address (NULL when
-- the user has none); both are unique.
CREATE TABLE bulwark_users (
    id            TEXT    PRIMARY KEY,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL,
    email_key     TEXT    UNIQUE,
    password_hash TEXT    NOT NULL,
    mfa_required  INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);
