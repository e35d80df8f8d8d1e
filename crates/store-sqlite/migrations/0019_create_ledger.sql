-- The access ledger (append only): one row per disclosure of personal data, the leaves of an
-- RFC 9162 Merkle tree. leaf_index is dense from 0 (the rowid); the beneficiary appears only
-- as an HMAC pseudonym. No update or delete is ever issued on these tables.
CREATE TABLE ledger_entries (
    leaf_index       INTEGER NOT NULL,
    id               BLOB NOT NULL,
    at               TEXT NOT NULL,
    account_id       BLOB,
    organisation_id  BLOB NOT NULL,
    credential       TEXT NOT NULL,
    insurer_id       BLOB NOT NULL,
    pseudonym        BLOB NOT NULL,
    categories       TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    client_addr      TEXT,
    leaf_hash        BLOB NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (leaf_index),
    CONSTRAINT ledger_entries_id UNIQUE (id)
);

CREATE INDEX ledger_entries_pseudonym ON ledger_entries (insurer_id, pseudonym, leaf_index);
CREATE INDEX ledger_entries_organisation ON ledger_entries (organisation_id, leaf_index);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, leaf_index);
CREATE INDEX ledger_entries_at ON ledger_entries (at);

-- Signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE ledger_checkpoints (
    tree_size  INTEGER NOT NULL,
    root       BLOB NOT NULL,
    at         TEXT NOT NULL,
    note       TEXT NOT NULL,
    CONSTRAINT ledger_checkpoints_pkey PRIMARY KEY (tree_size)
);

-- Outcomes of `rempart ledger verify` (the console shows the last one).
CREATE TABLE ledger_verifications (
    id               BLOB NOT NULL,
    at               TEXT NOT NULL,
    ok               INTEGER NOT NULL,
    entries          INTEGER NOT NULL,
    checkpoints      INTEGER NOT NULL,
    first_bad_index  INTEGER,
    summary          TEXT NOT NULL,
    CONSTRAINT ledger_verifications_pkey PRIMARY KEY (id)
);

-- Two new platform secrets: the ledger pseudonym key and the checkpoint-signing seeds.
-- SQLite cannot alter a CHECK constraint: the table is rebuilt with the wider one.
CREATE TABLE data_keys_0019 (
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
    CONSTRAINT data_keys_purpose CHECK (purpose IN ('seal', 'blind_index', 'card_signing', 'card_code', 'pseudonym', 'ledger_signing'))
);
INSERT INTO data_keys_0019 (key_id, scope, purpose, version, kek_version, wrapped, created_at, retired_at)
    SELECT key_id, scope, purpose, version, kek_version, wrapped, created_at, retired_at FROM data_keys;
DROP TABLE data_keys;
ALTER TABLE data_keys_0019 RENAME TO data_keys;
