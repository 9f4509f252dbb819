-- Signed-in phone browsers of the member pages (/m). The cookie holds a random token; only
-- its SHA-256 is stored. `credential_tag` is a digest of the account's password hash at
-- sign-in: a new password ends every session. Sessions slide: each use moves `expires_at`.
CREATE TABLE member_sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    credential_tag TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX member_sessions_member ON member_sessions (member_id);
CREATE INDEX member_sessions_expiry ON member_sessions (expires_at);

-- Each member's notices: one row per member a notification of the outbox names
-- (`member_id`, or each of `member_ids`), written with it; read or not.
CREATE TABLE member_notices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    outbox_id BIGINT NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    UNIQUE (outbox_id, member_id)
);
CREATE INDEX member_notices_member ON member_notices (member_id, id);
