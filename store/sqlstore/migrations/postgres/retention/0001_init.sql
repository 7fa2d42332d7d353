-- retention: subjects (the host's facts plus what retention did), erasure
-- progress, and fencing counters for the scheduler lock.
CREATE TABLE IF NOT EXISTS bulwark_retention_subjects (
    id           TEXT COLLATE "C" PRIMARY KEY,
    state        TEXT NOT NULL,
    since        BIGINT NOT NULL,
    last_active  BIGINT NOT NULL,
    has_key      BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    hold_reason  TEXT NOT NULL DEFAULT '',
    hold_since   BIGINT NOT NULL DEFAULT 0,
    warned       TEXT NOT NULL DEFAULT '',
    suspended_at BIGINT NOT NULL DEFAULT 0,
    closed_at    BIGINT NOT NULL DEFAULT 0,
    erased_at    BIGINT NOT NULL DEFAULT 0,
    receipt      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS bulwark_retention_erasures (
    id          TEXT COLLATE "C" PRIMARY KEY,
    subject     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    fence       BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0,
    done        TEXT NOT NULL DEFAULT ''
);

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
    fence BIGINT NOT NULL
);
