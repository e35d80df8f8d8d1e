-- Beneficiary import runs: counts and state, never a row's content.
CREATE TABLE imports (
    id              UUID NOT NULL,
    insurer_id      UUID NOT NULL,
    digest          TEXT,
    idempotency_key TEXT,
    full_file       BOOLEAN NOT NULL,
    file_date       DATE NOT NULL,
    state           TEXT NOT NULL,
    read_rows       BIGINT NOT NULL,
    inserted        BIGINT NOT NULL,
    updated         BIGINT NOT NULL,
    unchanged       BIGINT NOT NULL,
    closed          BIGINT NOT NULL,
    rejected        BIGINT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    CONSTRAINT imports_pkey PRIMARY KEY (id),
    CONSTRAINT imports_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);

CREATE INDEX imports_insurer ON imports (insurer_id, started_at);
