DROP TABLE checkin_attempts;
DROP TABLE checkins;
DROP TABLE display_devices;
ALTER TABLE venues DROP COLUMN checkin_secret_version;
ALTER TABLE venues DROP COLUMN checkin_secret;
