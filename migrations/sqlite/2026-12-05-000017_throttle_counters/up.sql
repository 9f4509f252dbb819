-- Throttles count in one row per key and fixed window (issue 17): a single
-- INSERT … ON CONFLICT DO UPDATE … RETURNING adds one and answers the new count, so parallel
-- requests can never all read "below the limit" before any of them is counted. The key is a
-- SHA-256 of what is counted ('login-phone-address:…', 'lookup-address:…'), never a phone
-- or an address in clear. Rows older than a day are swept.
CREATE TABLE throttle_counters (
    key_hash TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX throttle_counters_window ON throttle_counters (window_start);

-- Replaced by throttle_counters: one row per failed sign-in, read then written, raced.
DROP TABLE login_attempts;
