ALTER TABLE members DROP COLUMN sms_enabled;
DROP TABLE channel_send_slots;
DROP TABLE notice_channels;
DROP INDEX outbox_notice;
ALTER TABLE outbox DROP COLUMN last_attempt_at;
ALTER TABLE outbox DROP COLUMN target;
ALTER TABLE outbox DROP COLUMN notice_id;
ALTER TABLE outbox DROP COLUMN channel;
