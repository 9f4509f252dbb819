-- Security round 2 (issue 17).
--
-- Finding 1: a check-in uploaded from the phone's offline queue is judged at the scan time
-- the phone claims, so it cannot prove the member was there. It waits for a coordinator:
-- `review` is 'pending' until a coordinator of the venue confirms or refuses it (NULL for live
-- and manual check-ins, which need none). `code_step` is the display code's 30-second step,
-- so one code step used in offline uploads of several members can be flagged.
ALTER TABLE checkins ADD COLUMN review TEXT CHECK (review IN ('pending', 'confirmed', 'refused'));
ALTER TABLE checkins ADD COLUMN reviewed_by BIGINT REFERENCES members(id);
ALTER TABLE checkins ADD COLUMN reviewed_at TIMESTAMP;
ALTER TABLE checkins ADD COLUMN review_note TEXT;
ALTER TABLE checkins ADD COLUMN code_step BIGINT;
CREATE INDEX checkins_review ON checkins (committee_id, review);
CREATE INDEX checkins_code_step ON checkins (venue_id, code_step);

-- Finding 12: `zhiban demo` runs with the published JWT secret, so it may only serve a
-- database it created itself. This row is written when demo creates its county; without
-- it (or with any other committee present) demo refuses to start.
CREATE TABLE demo_database (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    created_at TIMESTAMP NOT NULL
);
