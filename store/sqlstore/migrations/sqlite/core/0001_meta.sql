-- bulwark_meta holds facts about the installation that every component may
-- read. Keys are lower-case dotted names.
CREATE TABLE IF NOT EXISTS bulwark_meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
