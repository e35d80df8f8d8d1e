-- The access ledger (append only): one row per disclosure of personal data, the leaves of an
-- RFC 9162 Merkle tree. leaf_index is dense from 0, assigned by the application (no
-- sequence); the beneficiary appears only as an HMAC pseudonym. No update or delete is ever
-- issued on these tables.
CREATE TABLE ledger_entries (
    leaf_index       BIGINT NOT NULL,
    id               UUID NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    account_id       UUID,
    organisation_id  UUID NOT NULL,
    credential       TEXT NOT NULL,
    insurer_id       UUID NOT NULL,
    pseudonym        BYTEA NOT NULL,
    categories       TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    client_addr      TEXT,
    leaf_hash        BYTEA NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (leaf_index),
    CONSTRAINT ledger_entries_id UNIQUE (id)
);

CREATE INDEX ledger_entries_pseudonym ON ledger_entries (insurer_id, pseudonym, leaf_index);
CREATE INDEX ledger_entries_organisation ON ledger_entries (organisation_id, leaf_index);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, leaf_index);
CREATE INDEX ledger_entries_at ON ledger_entries (at);

-- Signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE ledger_checkpoints (
    tree_size  BIGINT NOT NULL,
    root       BYTEA NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    note       TEXT NOT NULL,
    CONSTRAINT ledger_checkpoints_pkey PRIMARY KEY (tree_size)
);

-- Outcomes of `rempart ledger verify` (the console shows the last one).
CREATE TABLE ledger_verifications (
    id               UUID NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    ok               BOOLEAN NOT NULL,
    entries          BIGINT NOT NULL,
    checkpoints      BIGINT NOT NULL,
    first_bad_index  BIGINT,
    summary          TEXT NOT NULL,
    CONSTRAINT ledger_verifications_pkey PRIMARY KEY (id)
);

-- Two new platform secrets: the ledger pseudonym key and the checkpoint-signing seeds.
ALTER TABLE data_keys DROP CONSTRAINT data_keys_purpose;
ALTER TABLE data_keys ADD CONSTRAINT data_keys_purpose
    CHECK (purpose IN ('seal', 'blind_index', 'card_signing', 'card_code', 'pseudonym', 'ledger_signing'));
