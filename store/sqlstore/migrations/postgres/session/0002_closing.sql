-- When the tab-close beacon marked a session (microseconds; 0 when not
-- marked). The mark also lowers expires_at to the end of the grace.
ALTER TABLE bulwark_session_sessions ADD COLUMN closing_at BIGINT NOT NULL DEFAULT 0;
