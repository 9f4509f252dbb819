ALTER TABLE rosters DROP COLUMN calendar_missing_years;
