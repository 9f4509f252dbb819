-- Years of a roster's period that had no official working-day calendar when it was generated
-- (comma-separated): their holidays were not known, so only weekends counted as days off.
ALTER TABLE rosters ADD COLUMN calendar_missing_years TEXT NOT NULL DEFAULT '';
