-- retention: the fencing token of the newest scheduler lock holder
-- (retention.FenceStore). Every write that carries an older holder's token
-- is refused in the same statement, so a holder that lost its lock without
-- noticing cannot change anything.
CREATE TABLE IF NOT EXISTS bulwark_retention_fence (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    fence BIGINT NOT NULL
);

INSERT INTO bulwark_retention_fence (one, fence) VALUES (1, 0) ON CONFLICT DO NOTHING;
