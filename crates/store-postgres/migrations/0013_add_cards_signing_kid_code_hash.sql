-- Cards: the kid of the key that signed the card's latest token, and the keyed hash of its
-- current verification code (HMAC-SHA-256, 32 bytes; the code itself is never stored).
-- Cards issued before this migration have kid 0 and an empty hash (no code issued).
ALTER TABLE cards ADD COLUMN signing_kid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN code_hash BYTEA NOT NULL DEFAULT '\x';
