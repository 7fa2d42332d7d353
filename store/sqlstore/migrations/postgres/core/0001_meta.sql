-- bulwark_meta holds facts about the installation that every component may
-- read: the store's creation time and, later, settings such as the audit
-- chain's checkpoint key id. Keys are lower-case dotted names.
CREATE TABLE IF NOT EXISTS bulwark_meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
