-- Residents' items: handling units, items with their triage and deadline, the timeline,
-- referrals with a secret link for the unit, and the submission rate limit.

CREATE TABLE handling_units (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('township_government', 'county_department', 'other')),
    contact TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (committee_id, name)
);

CREATE TABLE items (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    venue_id BIGINT NOT NULL REFERENCES venues(id),
    tracking_code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('consultation', 'opinion')),
    topic TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Personal data: shown to coordinators and admins of the committee only.
    resident_name TEXT,
    resident_phone TEXT,
    source TEXT NOT NULL CHECK (source IN ('resident', 'member')),
    recorded_by BIGINT REFERENCES members(id),
    assignment_id BIGINT REFERENCES assignments(id),
    state TEXT NOT NULL CHECK (state IN ('received', 'triaged', 'referred', 'replied', 'closed', 'reopened')),
    importance TEXT CHECK (importance IN ('normal', 'important', 'major')),
    difficulty TEXT CHECK (difficulty IN ('easy', 'moderate', 'hard')),
    tier INTEGER CHECK (tier BETWEEN 1 AND 4),
    tier_override_reason TEXT,
    due_on DATE,
    handling_unit_id BIGINT REFERENCES handling_units(id),
    taken_by BIGINT REFERENCES members(id),
    resolution TEXT CHECK (resolution IN ('resolved', 'answered', 'not_actionable', 'duplicate', 'merged')),
    satisfaction TEXT CHECK (satisfaction IN ('satisfied', 'partly_satisfied', 'unsatisfied')),
    resident_reopened BOOLEAN NOT NULL DEFAULT FALSE,
    -- When the resident last got an answer (reply or close): the 15-day reopen window starts here.
    answered_at TIMESTAMP,
    first_reply_at TIMESTAMP,
    closed_at TIMESTAMP,
    follow_up_on DATE,
    follow_up_done_at TIMESTAMP,
    -- 0 none, 1 coordinators told, 2 admins told; raised by a conditional update so two
    -- workers never escalate the same level twice.
    escalation_level INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX items_queue ON items (committee_id, venue_id, state);
CREATE INDEX items_due ON items (committee_id, due_on);

CREATE TABLE item_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    item_id BIGINT NOT NULL REFERENCES items(id),
    at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('resident', 'member', 'handling_unit', 'system')),
    actor_id BIGINT,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    note TEXT,
    -- Shown on the resident's tracking page (the receipt, replies, closing, reopening).
    public BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX item_events_item ON item_events (item_id, id);

CREATE TABLE referrals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    item_id BIGINT NOT NULL REFERENCES items(id),
    handling_unit_id BIGINT NOT NULL REFERENCES handling_units(id),
    token_hash TEXT NOT NULL UNIQUE,
    note TEXT,
    created_by BIGINT NOT NULL REFERENCES members(id),
    created_at TIMESTAMP NOT NULL,
    replied_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX referrals_item ON referrals (item_id);

-- Public submissions counted per hashed client address and per hashed phone.
CREATE TABLE submission_hits (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_hash TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX submission_hits_key ON submission_hits (key_hash, at);
CREATE INDEX submission_hits_at ON submission_hits (at);
