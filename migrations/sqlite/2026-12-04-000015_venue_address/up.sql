-- Where a venue is, as members and residents are told the way: a street address
-- (e.g. 昆阳镇城东街道解放街 128 号). Optional; the API caps it at 120 characters.
ALTER TABLE venues ADD COLUMN address TEXT;
