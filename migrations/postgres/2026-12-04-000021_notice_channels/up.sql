-- Notices reach DingTalk and WeCom group robots and SMS (issue 21). Each notice keeps its
-- one outbox row for the generic webhook (channel 'webhook'); every other channel it is
-- routed to gets a row of its own, pointing back at it through notice_id, with the same
-- retries, backoff, dead letters and claims. `target` names the configured channel the
-- row goes to (a notice_channels.target).
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook';
ALTER TABLE outbox ADD COLUMN notice_id BIGINT;
ALTER TABLE outbox ADD COLUMN target TEXT;
ALTER TABLE outbox ADD COLUMN last_attempt_at TIMESTAMP;
CREATE INDEX outbox_notice ON outbox (notice_id);

-- A committee's (venue_id NULL) or a venue's channel: its robot webhook or SMS account, as
-- JSON with its secrets (write-only at the API). `target` is unique across committees:
-- 'c{committee}/{channel}' or 'c{committee}/v{venue}/{channel}'.
CREATE TABLE notice_channels (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees(id),
    venue_id BIGINT REFERENCES venues(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('dingtalk', 'wecom', 'sms')),
    target TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notice_channels_committee ON notice_channels (committee_id);

-- A robot takes at most N messages a minute (DingTalk: 20, else it blocks the robot for ten
-- minutes). Each robot has N slots; a send takes the slot used longest ago, and only when
-- that was over a minute ago, by a conditional UPDATE: so across instances no minute ever
-- holds more than N sends to one robot.
CREATE TABLE channel_send_slots (
    target TEXT NOT NULL,
    slot INTEGER NOT NULL,
    used_at TIMESTAMP NOT NULL,
    PRIMARY KEY (target, slot)
);

-- The member's own choice on the member pages: SMS on (default) or off.
ALTER TABLE members ADD COLUMN sms_enabled BOOLEAN NOT NULL DEFAULT TRUE;
