-- One-time enrolment invitations. Only a keyed hash of the 256-bit token is stored.
CREATE TABLE invitations (
    id                    UUID NOT NULL,
    token_hash            BYTEA NOT NULL,
    role                  TEXT NOT NULL,
    organisation_id       UUID NOT NULL,
    display_name          TEXT,
    professional_id_kind  TEXT,
    professional_id       TEXT,
    account_id            UUID,
    created_by            UUID,
    created_at            TIMESTAMPTZ NOT NULL,
    expires_at            TIMESTAMPTZ NOT NULL,
    used_at               TIMESTAMPTZ,
    CONSTRAINT invitations_pkey PRIMARY KEY (id),
    CONSTRAINT invitations_token_hash UNIQUE (token_hash),
    CONSTRAINT invitations_organisation_fkey FOREIGN KEY (organisation_id) REFERENCES organisations (id),
    CONSTRAINT invitations_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);
