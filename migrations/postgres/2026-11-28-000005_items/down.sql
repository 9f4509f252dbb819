DROP TABLE submission_hits;
DROP TABLE referrals;
DROP TABLE item_events;
DROP TABLE items;
DROP TABLE handling_units;
