-- WebAuthn ceremony state, server-side, short-lived, deleted on first use.
CREATE TABLE ceremonies (
    id          BLOB NOT NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    account_id  BLOB,
    session_id  BLOB,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    CONSTRAINT ceremonies_pkey PRIMARY KEY (id)
);
