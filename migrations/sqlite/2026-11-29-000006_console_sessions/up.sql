-- Signed-in browser sessions of the coordinator console. The cookie holds a random token;
-- only its SHA-256 is stored. Each session has its own CSRF token for the console's forms.
CREATE TABLE console_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX console_sessions_member ON console_sessions (member_id);
