-- Organisations: the operator, insurers, practices.
-- PostgreSQL conventions: UUID keys made by the application (no sequences, no triggers, no
-- extensions), DATE, TIMESTAMPTZ (microseconds), sealed fields as BYTEA.
CREATE TABLE organisations (
    id         UUID NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT organisations_pkey PRIMARY KEY (id),
    CONSTRAINT organisations_id_kind UNIQUE (id, kind)
);

CREATE INDEX organisations_kind_created ON organisations (kind, created_at, id);
