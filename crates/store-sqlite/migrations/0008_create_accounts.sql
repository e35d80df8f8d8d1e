-- Accounts of people, in an organisation; professional accounts name their professional.
CREATE TABLE accounts (
    id              BLOB NOT NULL,
    organisation_id BLOB NOT NULL,
    role            TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    professional_id BLOB,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_organisation_fkey FOREIGN KEY (organisation_id) REFERENCES organisations (id),
    CONSTRAINT accounts_professional_fkey FOREIGN KEY (professional_id) REFERENCES professionals (id)
);

CREATE INDEX accounts_organisation ON accounts (organisation_id, created_at, id);
