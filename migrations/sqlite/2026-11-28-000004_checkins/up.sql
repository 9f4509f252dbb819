-- QR check-in: per-venue signing secrets, display devices, check-ins and every scan attempt.

-- The secret signs the rotating venue code; `checkin_secret_version` goes up on rotation so
-- codes signed with an older secret are recognised as revoked.
ALTER TABLE venues ADD COLUMN checkin_secret TEXT;
ALTER TABLE venues ADD COLUMN checkin_secret_version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE display_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    venue_id INTEGER NOT NULL REFERENCES venues(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

-- One row per assignment at most: the UNIQUE constraint is what makes two concurrent scans
-- (even on two instances) end with exactly one check-in.
CREATE TABLE checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    assignment_id INTEGER NOT NULL UNIQUE REFERENCES assignments(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    venue_id INTEGER NOT NULL REFERENCES venues(id),
    shift_id INTEGER NOT NULL REFERENCES shifts(id),
    checked_in_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('display', 'poster', 'manual')),
    assurance TEXT NOT NULL CHECK (assurance IN ('high', 'low', 'manual')),
    late BOOLEAN NOT NULL,
    offline BOOLEAN NOT NULL DEFAULT 0,
    late_upload BOOLEAN NOT NULL DEFAULT 0,
    latitude DOUBLE,
    longitude DOUBLE,
    checked_out_at TIMESTAMP,
    manual_reason TEXT,
    recorded_by INTEGER REFERENCES members(id)
);
CREATE INDEX checkins_venue ON checkins (venue_id, checked_in_at);

-- Every scan, successful or not, with its outcome; (member, nonce) makes retries idempotent.
CREATE TABLE checkin_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    nonce TEXT NOT NULL,
    outcome TEXT NOT NULL,
    response TEXT NOT NULL,
    raw_payload TEXT NOT NULL,
    scanned_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    offline BOOLEAN NOT NULL DEFAULT 0,
    UNIQUE (member_id, nonce)
);
CREATE INDEX checkin_attempts_outcome ON checkin_attempts (committee_id, outcome, received_at);
