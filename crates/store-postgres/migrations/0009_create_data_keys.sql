-- Data keys and other secrets, stored ONLY wrapped by the key provider's KEK (never in clear).
-- key_id is the 4-byte key id of sealed headers: unique in the deployment, never reused.
CREATE TABLE data_keys (
    key_id      BIGINT NOT NULL,
    scope       UUID NOT NULL,
    purpose     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    kek_version BIGINT NOT NULL,
    wrapped     BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ,
    CONSTRAINT data_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT data_keys_version UNIQUE (scope, purpose, version),
    CONSTRAINT data_keys_purpose CHECK (purpose IN ('seal', 'blind_index', 'card_signing', 'card_code'))
);
