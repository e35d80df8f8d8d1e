-- Contracts: versioned, effective-dated guarantee tables of an insurer.
CREATE TABLE contracts (
    id             BLOB NOT NULL,
    insurer_id     BLOB NOT NULL,
    code           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    label          TEXT NOT NULL,
    responsible    INTEGER NOT NULL,
    effective_from TEXT NOT NULL,
    effective_to   TEXT,
    guarantees     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    CONSTRAINT contracts_pkey PRIMARY KEY (id),
    CONSTRAINT contracts_version UNIQUE (insurer_id, code, version),
    CONSTRAINT contracts_insurer_id_id UNIQUE (insurer_id, id),
    CONSTRAINT contracts_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);
-- find_contract_in_effect and list_contracts use contracts_version (insurer_id, code, version).
