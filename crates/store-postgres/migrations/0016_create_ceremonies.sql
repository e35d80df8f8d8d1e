-- WebAuthn ceremony state, server-side, short-lived, deleted on first use.
CREATE TABLE ceremonies (
    id          UUID NOT NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    account_id  UUID,
    session_id  UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT ceremonies_pkey PRIMARY KEY (id)
);
