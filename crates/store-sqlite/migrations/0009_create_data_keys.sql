-- Data keys and other secrets, stored ONLY wrapped by the key provider's KEK (never in clear).
-- key_id is the 4-byte key id of sealed headers: unique in the deployment, never reused.
CREATE TABLE data_keys (
    key_id      INTEGER NOT NULL,
    scope       BLOB NOT NULL,
    purpose     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT,
    CONSTRAINT data_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT data_keys_version UNIQUE (scope, purpose, version),
    CONSTRAINT data_keys_purpose CHECK (purpose IN ('seal', 'blind_index', 'card_signing', 'card_code'))
);
