-- Passkeys of accounts: the serialized webauthn-rs Passkey (public key and counter, no secret).
CREATE TABLE credentials (
    id             BLOB NOT NULL,
    account_id     BLOB NOT NULL,
    credential_id  BLOB NOT NULL,
    passkey        TEXT NOT NULL,
    label          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_used_at   TEXT,
    CONSTRAINT credentials_pkey PRIMARY KEY (id),
    CONSTRAINT credentials_credential_id UNIQUE (credential_id),
    CONSTRAINT credentials_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);

CREATE INDEX credentials_account ON credentials (account_id, created_at, id);
