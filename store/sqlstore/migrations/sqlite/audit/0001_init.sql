-- audit: hash-chained event log. Appends run in a write transaction, which
-- serialises them; body is the canonical record encoding the hash covers,
-- the other columns exist for filtering.
CREATE TABLE bulwark_audit_heads (
    stream TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,
    hash   BLOB NOT NULL
) STRICT;

CREATE TABLE bulwark_audit_events (
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    id          TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    ip          TEXT NOT NULL,
    body        BLOB NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (stream, seq)
) STRICT;

CREATE INDEX bulwark_audit_events_time ON bulwark_audit_events (stream, at DESC, id DESC);
CREATE INDEX bulwark_audit_events_actor ON bulwark_audit_events (stream, actor, at DESC);
CREATE INDEX bulwark_audit_events_target ON bulwark_audit_events (stream, target_type, target_id, at DESC);

CREATE TABLE bulwark_audit_checkpoints (
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    pruned_seq  INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    at          INTEGER NOT NULL,
    pruned_hash BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    signature   BLOB NOT NULL,
    PRIMARY KEY (stream, seq, pruned_seq)
) STRICT;
