-- Sessions of people signed in with a passkey. Only a keyed hash of the cookie value is stored.
CREATE TABLE sessions (
    id             UUID NOT NULL,
    token_hash     BYTEA NOT NULL,
    account_id     UUID NOT NULL,
    credential_id  UUID NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    last_uv_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_hash UNIQUE (token_hash),
    CONSTRAINT sessions_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);

CREATE INDEX sessions_account ON sessions (account_id);
