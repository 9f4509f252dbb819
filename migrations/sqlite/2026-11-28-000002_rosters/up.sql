-- Rosters: shift templates, generated rosters (draft → published, versioned), shifts and
-- assignments, swaps, leave, calendar-feed tokens, and the notification outbox.

CREATE TABLE shift_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    venue_id INTEGER NOT NULL REFERENCES venues(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reception_day', 'home_duty', 'custom')),
    rrule TEXT NOT NULL,
    start_time TIME NOT NULL,
    end_time TIME NOT NULL,
    head_min INTEGER NOT NULL,
    head_max INTEGER NOT NULL,
    head_target INTEGER NOT NULL,
    -- Who may be assigned: members homed at `pool_venue_id` (plus the roving pool when
    -- `include_roving`), or every member of the committee when `pool_venue_id` is NULL.
    pool_venue_id INTEGER REFERENCES venues(id),
    include_roving BOOLEAN NOT NULL DEFAULT 0,
    holiday_policy TEXT NOT NULL CHECK (holiday_policy IN ('keep', 'next_working_day', 'previous_working_day', 'skip')),
    one_per_member_per_month BOOLEAN NOT NULL DEFAULT 0,
    also_on_adjusted_working_days BOOLEAN NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX shift_templates_committee ON shift_templates (committee_id);

CREATE TABLE rosters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'discarded')),
    version INTEGER NOT NULL DEFAULT 1,
    shortfalls TEXT NOT NULL DEFAULT '[]',
    created_by INTEGER REFERENCES members(id),
    created_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    published_by INTEGER REFERENCES members(id),
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX rosters_committee ON rosters (committee_id, period_from);

CREATE TABLE shifts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    roster_id INTEGER NOT NULL REFERENCES rosters(id),
    template_id INTEGER NOT NULL REFERENCES shift_templates(id),
    venue_id INTEGER NOT NULL REFERENCES venues(id),
    local_date DATE NOT NULL,
    start_time TIME NOT NULL,
    end_time TIME NOT NULL,
    -- The same window as UTC instants, for "who is on duty now" and check-in windows.
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    head_min INTEGER NOT NULL,
    head_max INTEGER NOT NULL
);
CREATE INDEX shifts_roster ON shifts (roster_id);
CREATE INDEX shifts_venue_time ON shifts (venue_id, starts_at);
CREATE INDEX shifts_committee_date ON shifts (committee_id, local_date);

CREATE TABLE assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    shift_id INTEGER NOT NULL REFERENCES shifts(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    role TEXT NOT NULL CHECK (role IN ('lead', 'member')),
    source TEXT NOT NULL CHECK (source IN ('generated', 'manual', 'swap', 'substitute')),
    locked BOOLEAN NOT NULL DEFAULT 0,
    reason TEXT NOT NULL,
    -- Published rosters are never rewritten: a removed assignment stays, marked removed.
    removed_at TIMESTAMP,
    removed_in_version INTEGER,
    added_in_version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX assignments_shift ON assignments (shift_id);
CREATE INDEX assignments_member ON assignments (member_id, shift_id);

CREATE TABLE roster_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    roster_id INTEGER NOT NULL REFERENCES rosters(id),
    version INTEGER NOT NULL,
    actor_id INTEGER REFERENCES members(id),
    reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);
CREATE INDEX roster_changes_roster ON roster_changes (roster_id, version);

CREATE TABLE swap_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    assignment_id INTEGER NOT NULL REFERENCES assignments(id),
    from_member_id INTEGER NOT NULL REFERENCES members(id),
    -- NULL: offered to the pool; the first eligible colleague to accept takes it.
    to_member_id INTEGER REFERENCES members(id),
    accepted_by INTEGER REFERENCES members(id),
    status TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'approved', 'rejected', 'cancelled')),
    note TEXT NOT NULL DEFAULT '',
    decided_by INTEGER REFERENCES members(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX swap_requests_committee ON swap_requests (committee_id, status);

CREATE TABLE leave_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    date_from DATE NOT NULL,
    date_to DATE NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    decided_by INTEGER REFERENCES members(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX leave_requests_member ON leave_requests (committee_id, member_id, date_from);

CREATE TABLE calendar_feeds (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

-- Where a committee's notifications are delivered; the secret signs each delivery.
ALTER TABLE committees ADD COLUMN webhook_url TEXT;
ALTER TABLE committees ADD COLUMN webhook_secret TEXT;

-- Notifications are written here in the transaction of the change that causes them, and
-- delivered by the worker; `claimed_until` lets several instances share the work safely.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
