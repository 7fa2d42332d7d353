-- Attempt counters and locks moved to bulwark_counters (component
-- primitives); the lockout arithmetic is in package mfa's Go code.
DROP TABLE IF EXISTS bulwark_mfa_attempts;
