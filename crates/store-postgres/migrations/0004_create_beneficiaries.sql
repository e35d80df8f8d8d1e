-- Beneficiaries: identifying fields are sealed (BYTEA); insurer_id is the distribution column.
CREATE TABLE beneficiaries (
    id                    UUID NOT NULL,
    insurer_id            UUID NOT NULL,
    member_number         TEXT NOT NULL,
    birth_rank            SMALLINT NOT NULL,
    nir_sealed            BYTEA NOT NULL,
    last_name_sealed      BYTEA NOT NULL,
    first_name_sealed     BYTEA NOT NULL,
    birth_date_sealed     BYTEA NOT NULL,
    marital_status_sealed BYTEA NOT NULL,
    quality               TEXT NOT NULL,
    contract_id           UUID NOT NULL,
    valid_from            DATE NOT NULL,
    valid_to              DATE,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    CONSTRAINT beneficiaries_pkey PRIMARY KEY (id),
    CONSTRAINT beneficiaries_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    CONSTRAINT beneficiaries_contract_fkey FOREIGN KEY (insurer_id, contract_id) REFERENCES contracts (insurer_id, id)
);

CREATE INDEX beneficiaries_member ON beneficiaries (insurer_id, member_number, birth_rank, id);
