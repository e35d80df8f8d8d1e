-- Contracts: versioned, effective-dated guarantee tables of an insurer.
CREATE TABLE contracts (
    id             UUID NOT NULL,
    insurer_id     UUID NOT NULL,
    code           TEXT COLLATE "C" NOT NULL,
    version        BIGINT NOT NULL,
    label          TEXT NOT NULL,
    responsible    BOOLEAN NOT NULL,
    effective_from DATE NOT NULL,
    effective_to   DATE,
    guarantees     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT contracts_pkey PRIMARY KEY (id),
    CONSTRAINT contracts_version UNIQUE (insurer_id, code, version),
    CONSTRAINT contracts_insurer_id_id UNIQUE (insurer_id, id),
    CONSTRAINT contracts_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);
-- find_contract_in_effect and list_contracts use contracts_version (insurer_id, code, version).
