-- Proof tiles (issue 5): the Merkle root of each whole block of 1,024 ledger leaves, derived
-- from the stored leaf hashes by each server's checkpointer, so that an inclusion or
-- consistency proof reads one row per block instead of 1,024 leaf hashes. `rempart ledger
-- verify` checks every tile against the entries.
CREATE TABLE ledger_tiles (
    tile  BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    CONSTRAINT ledger_tiles_pkey PRIMARY KEY (tile)
);
