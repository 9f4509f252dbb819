DROP TABLE demo_database;
DROP INDEX checkins_code_step;
DROP INDEX checkins_review;
ALTER TABLE checkins DROP COLUMN code_step;
ALTER TABLE checkins DROP COLUMN review_note;
ALTER TABLE checkins DROP COLUMN reviewed_at;
ALTER TABLE checkins DROP COLUMN reviewed_by;
ALTER TABLE checkins DROP COLUMN review;
