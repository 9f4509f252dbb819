ALTER TABLE venues DROP COLUMN address;
