-- Organisations: the operator, insurers, practices.
-- SQLite conventions (see README.md): UUIDs are BLOB(16) made by the application, dates are
-- TEXT 'YYYY-MM-DD', timestamps are UTC TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (microseconds).
CREATE TABLE organisations (
    id         BLOB NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT organisations_pkey PRIMARY KEY (id),
    CONSTRAINT organisations_id_kind UNIQUE (id, kind)
);

CREATE INDEX organisations_kind_created ON organisations (kind, created_at, id);
