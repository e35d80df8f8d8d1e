-- Sessions of people signed in with a passkey. Only a keyed hash of the cookie value is stored.
CREATE TABLE sessions (
    id             BLOB NOT NULL,
    token_hash     BLOB NOT NULL,
    account_id     BLOB NOT NULL,
    credential_id  BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    last_uv_at     TEXT NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_hash UNIQUE (token_hash),
    CONSTRAINT sessions_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
);

CREATE INDEX sessions_account ON sessions (account_id);
