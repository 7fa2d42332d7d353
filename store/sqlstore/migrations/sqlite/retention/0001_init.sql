-- retention: subjects (the host's facts plus what retention did), erasure
-- progress, and fencing counters for the scheduler lock.
CREATE TABLE IF NOT EXISTS bulwark_retention_subjects (
    id           TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    since        INTEGER NOT NULL,
    last_active  INTEGER NOT NULL,
    has_key      INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    hold_reason  TEXT NOT NULL DEFAULT '',
    hold_since   INTEGER NOT NULL DEFAULT 0,
    warned       TEXT NOT NULL DEFAULT '',
    suspended_at INTEGER NOT NULL DEFAULT 0,
    closed_at    INTEGER NOT NULL DEFAULT 0,
    erased_at    INTEGER NOT NULL DEFAULT 0,
    receipt      TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE IF NOT EXISTS bulwark_retention_erasures (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    fence       INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    done        TEXT NOT NULL DEFAULT ''
) STRICT;

-- At most one unfinished erasure per subject.
CREATE UNIQUE INDEX IF NOT EXISTS bulwark_retention_erasures_open
    ON bulwark_retention_erasures (subject) WHERE finished_at = 0;

-- Pending erasures are found without reading the finished ones.
CREATE INDEX IF NOT EXISTS bulwark_retention_erasures_pending
    ON bulwark_retention_erasures (id) WHERE finished_at = 0;

-- Scans skip tombstones of erased subjects.
CREATE INDEX IF NOT EXISTS bulwark_retention_subjects_live
    ON bulwark_retention_subjects (id) WHERE erased_at = 0;

CREATE TABLE IF NOT EXISTS bulwark_retention_locks (
    job   TEXT PRIMARY KEY,
    fence INTEGER NOT NULL
) STRICT;
