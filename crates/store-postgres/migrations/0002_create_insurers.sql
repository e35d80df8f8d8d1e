-- Insurers (AMC): an insurer is an organisation of kind 'insurer' with the same id.
CREATE TABLE insurers (
    id                UUID NOT NULL,
    organisation_kind TEXT NOT NULL DEFAULT 'insurer' CHECK (organisation_kind = 'insurer'),
    amc               TEXT NOT NULL,
    name              TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT insurers_pkey PRIMARY KEY (id),
    CONSTRAINT insurers_amc UNIQUE (amc),
    CONSTRAINT insurers_organisation_fkey FOREIGN KEY (id, organisation_kind) REFERENCES organisations (id, kind)
);

CREATE INDEX insurers_created ON insurers (created_at, id);
