-- Beneficiary import runs: counts and state, never a row's content.
CREATE TABLE imports (
    id              BLOB NOT NULL,
    insurer_id      BLOB NOT NULL,
    digest          TEXT,
    idempotency_key TEXT,
    full_file       INTEGER NOT NULL,
    file_date       TEXT NOT NULL,
    state           TEXT NOT NULL,
    read_rows       INTEGER NOT NULL,
    inserted        INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    unchanged       INTEGER NOT NULL,
    closed          INTEGER NOT NULL,
    rejected        INTEGER NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    CONSTRAINT imports_pkey PRIMARY KEY (id),
    CONSTRAINT imports_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);

CREATE INDEX imports_insurer ON imports (insurer_id, started_at);
