-- The foreign keys of beneficiaries and cards (to their insurer and contract) are checked at
-- COMMIT instead of after each statement. An immediate foreign key makes SQLite keep a
-- statement journal for every multi-row INSERT or UPDATE of these tables (a copy of each page
-- the statement touches, so that it can undo itself alone), a page copy per row with their
-- random-key indexes; an import batch never undoes one statement, it fails whole
-- (store-sqlite/src/imports.rs, "No statement journal"; docs/benchmarks.md). A broken key
-- still fails the transaction. SQLite cannot alter a constraint: each table is rebuilt, its
-- rows (and rowids) copied, its indexes re-created. No table references these two.
CREATE TABLE beneficiaries_0033 (
    id                    BLOB NOT NULL,
    insurer_id            BLOB NOT NULL,
    member_number         TEXT NOT NULL,
    birth_rank            INTEGER NOT NULL,
    nir_sealed            BLOB NOT NULL,
    last_name_sealed      BLOB NOT NULL,
    first_name_sealed     BLOB NOT NULL,
    birth_date_sealed     BLOB NOT NULL,
    marital_status_sealed BLOB NOT NULL,
    quality               TEXT NOT NULL,
    contract_id           BLOB NOT NULL,
    valid_from            TEXT NOT NULL,
    valid_to              TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    nir_index             INTEGER NOT NULL DEFAULT 0,
    last_import_id        BLOB,
    CONSTRAINT beneficiaries_pkey PRIMARY KEY (id),
    CONSTRAINT beneficiaries_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT beneficiaries_contract_fkey FOREIGN KEY (insurer_id, contract_id) REFERENCES contracts (insurer_id, id)
        DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO beneficiaries_0033 (rowid, id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed,
    first_name_sealed, birth_date_sealed, marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at,
    updated_at, nir_index, last_import_id)
SELECT rowid, id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed,
    first_name_sealed, birth_date_sealed, marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at,
    updated_at, nir_index, last_import_id
FROM beneficiaries ORDER BY rowid;
DROP TABLE beneficiaries;
ALTER TABLE beneficiaries_0033 RENAME TO beneficiaries;
CREATE INDEX beneficiaries_member ON beneficiaries (member_number);
CREATE INDEX beneficiaries_nir_index ON beneficiaries (nir_index);

CREATE TABLE cards_0033 (
    id                BLOB NOT NULL,
    insurer_id        BLOB NOT NULL,
    member_number     TEXT NOT NULL,
    convention_type   TEXT NOT NULL,
    routing_criterion TEXT NOT NULL,
    valid_from        TEXT NOT NULL,
    valid_to          TEXT NOT NULL,
    domains           TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    signing_kid       INTEGER NOT NULL DEFAULT 0,
    code_hash         BLOB NOT NULL DEFAULT x'',
    CONSTRAINT cards_pkey PRIMARY KEY (id),
    CONSTRAINT cards_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
        DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO cards_0033 (rowid, id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to,
    domains, created_at, signing_kid, code_hash)
SELECT rowid, id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to,
    domains, created_at, signing_kid, code_hash
FROM cards ORDER BY rowid;
DROP TABLE cards;
ALTER TABLE cards_0033 RENAME TO cards;
CREATE INDEX cards_member ON cards (member_number);
