-- Idempotency-Key records of writes: one per caller (account or machine certificate), route
-- and key. The kept answer is sealed (it may hold an invitation link or a certificate's key);
-- rows are purged once expired (24 hours).
CREATE TABLE idempotency (
    id              BLOB NOT NULL,
    actor_id        BLOB NOT NULL,
    organisation_id BLOB NOT NULL,
    route           TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    BLOB,
    status          INTEGER,
    response        BLOB,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    CONSTRAINT idempotency_pkey PRIMARY KEY (id),
    CONSTRAINT idempotency_key UNIQUE (actor_id, route, idem_key)
);

CREATE INDEX idempotency_expires ON idempotency (expires_at);
