-- A new platform secret: the access-token key (the keyed hashes of invitation tokens and
-- session ids), kept wrapped by the KEK like every other key instead of a file.
-- SQLite cannot alter a CHECK constraint: the table is rebuilt with the wider one.
CREATE TABLE data_keys_0027 (
    key_id      INTEGER NOT NULL,
    scope       BLOB NOT NULL,
    purpose     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT,
    CONSTRAINT data_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT data_keys_version UNIQUE (scope, purpose, version),
    CONSTRAINT data_keys_purpose CHECK (purpose IN ('seal', 'blind_index', 'card_signing', 'card_code', 'pseudonym', 'ledger_signing', 'access_token'))
);
INSERT INTO data_keys_0027 (key_id, scope, purpose, version, kek_version, wrapped, created_at, retired_at)
    SELECT key_id, scope, purpose, version, kek_version, wrapped, created_at, retired_at FROM data_keys;
DROP TABLE data_keys;
ALTER TABLE data_keys_0027 RENAME TO data_keys;
