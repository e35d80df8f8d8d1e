-- One-time enrolment invitations. Only a keyed hash of the 256-bit token is stored.
CREATE TABLE invitations (
    id                    BLOB NOT NULL,
    token_hash            BLOB NOT NULL,
    role                  TEXT NOT NULL,
    organisation_id       BLOB NOT NULL,
    display_name          TEXT,
    professional_id_kind  TEXT,
    professional_id       TEXT,
    account_id            BLOB,
    created_by            BLOB,
    created_at            TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    used_at               TEXT,
    CONSTRAINT invitations_pkey PRIMARY KEY (id),
    CONSTRAINT invitations_token_hash UNIQUE (token_hash),
    CONSTRAINT invitations_organisation_fkey FOREIGN KEY (organisation_id) REFERENCES organisations (id),
    CONSTRAINT invitations_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);
