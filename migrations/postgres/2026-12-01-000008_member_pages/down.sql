DROP TABLE member_notices;
DROP TABLE member_sessions;
