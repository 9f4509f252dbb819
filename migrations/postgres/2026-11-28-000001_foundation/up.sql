-- Foundation: committees (tenants), venues, members and their accounts, the working-day calendar.
-- Instants are UTC, stored as TIMESTAMP without time zone.
CREATE TABLE committees (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE venues (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    kind TEXT NOT NULL CHECK (kind IN ('township_studio', 'cppcc_home')),
    name TEXT NOT NULL,
    township TEXT,
    code TEXT NOT NULL UNIQUE,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    radius_m INTEGER,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (committee_id, name)
);
CREATE INDEX venues_committee ON venues (committee_id);

CREATE TABLE members (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    name TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    sector TEXT,
    home_venue_id BIGINT REFERENCES venues(id),
    standing_committee BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    roles TEXT NOT NULL DEFAULT 'member',
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX members_committee ON members (committee_id, id);
CREATE INDEX members_home_venue ON members (home_venue_id);

CREATE TABLE coordinator_venues (
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    venue_id BIGINT NOT NULL REFERENCES venues(id),
    PRIMARY KEY (member_id, venue_id)
);

CREATE TABLE refresh_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    family TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

-- Failed and successful logins, keyed by a hash of the phone or the client address,
-- so throttling holds across instances and stores no phone number in clear.
CREATE TABLE login_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_hash TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key_hash, attempted_at);

CREATE TABLE calendar_years (
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    year INTEGER NOT NULL,
    source TEXT,
    updated_at TIMESTAMP NOT NULL,
    updated_by BIGINT REFERENCES members(id),
    PRIMARY KEY (committee_id, year)
);

CREATE TABLE calendar_days (
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    day DATE NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'adjusted_working_day')),
    name TEXT NOT NULL,
    PRIMARY KEY (committee_id, day)
);

CREATE TABLE audit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    actor_id BIGINT REFERENCES members(id),
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id BIGINT,
    detail TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (committee_id, subject_type, subject_id);
