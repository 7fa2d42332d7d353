-- mfa: users who turned emailed codes on as a second factor. Times are
-- microseconds.
CREATE TABLE IF NOT EXISTS bulwark_mfa_email_factor (
    user_id    TEXT PRIMARY KEY,
    enabled_at BIGINT NOT NULL
);
