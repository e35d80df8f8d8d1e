-- Beneficiaries: identifying fields are sealed (BLOB); insurer_id is the distribution column.
CREATE TABLE beneficiaries (
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
    CONSTRAINT beneficiaries_pkey PRIMARY KEY (id),
    CONSTRAINT beneficiaries_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    CONSTRAINT beneficiaries_contract_fkey FOREIGN KEY (insurer_id, contract_id) REFERENCES contracts (insurer_id, id)
);

CREATE INDEX beneficiaries_member ON beneficiaries (insurer_id, member_number, birth_rank, id);
