-- audit: hash-chained event log. One head row per stream serialises
-- appends (SELECT ... FOR UPDATE via an upsert); body is the canonical
-- record encoding the hash covers, the other columns exist for filtering.
CREATE TABLE bulwark_audit_heads (
    stream TEXT COLLATE "C" PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   BYTEA NOT NULL
);

CREATE TABLE bulwark_audit_events (
    stream      TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT COLLATE "C" NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    ip          TEXT NOT NULL,
    body        BYTEA NOT NULL,
    hash        BYTEA NOT NULL,
    PRIMARY KEY (stream, seq)
);

CREATE INDEX bulwark_audit_events_time ON bulwark_audit_events (stream, at DESC, id DESC);
CREATE INDEX bulwark_audit_events_actor ON bulwark_audit_events (stream, actor, at DESC);
CREATE INDEX bulwark_audit_events_target ON bulwark_audit_events (stream, target_type, target_id, at DESC);

CREATE TABLE bulwark_audit_checkpoints (
    stream      TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    pruned_seq  BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    at          BIGINT NOT NULL,
    pruned_hash BYTEA NOT NULL,
    key_id      TEXT NOT NULL,
    signature   BYTEA NOT NULL,
    PRIMARY KEY (stream, seq, pruned_seq)
);
