-- Practices: organisations that bill. The IBAN is sealed.
CREATE TABLE practices (
    id          UUID NOT NULL,
    name        TEXT NOT NULL,
    profession  TEXT NOT NULL,
    am_number   TEXT NOT NULL,
    finess      TEXT,
    siret       TEXT,
    iban_sealed BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT practices_pkey PRIMARY KEY (id),
    CONSTRAINT practices_am_number UNIQUE (am_number)
);
