-- Idempotency-Key records of writes: one per caller (account or machine certificate), route
-- and key. The kept answer is sealed (it may hold an invitation link or a certificate's key);
-- rows are purged once expired (24 hours).
CREATE TABLE idempotency (
    id              UUID NOT NULL,
    actor_id        UUID NOT NULL,
    organisation_id UUID NOT NULL,
    route           TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    BYTEA,
    status          INTEGER,
    response        BYTEA,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT idempotency_pkey PRIMARY KEY (id),
    CONSTRAINT idempotency_key UNIQUE (actor_id, route, idem_key)
);

CREATE INDEX idempotency_expires ON idempotency (expires_at);
