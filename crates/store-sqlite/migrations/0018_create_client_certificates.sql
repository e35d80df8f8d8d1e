-- Client certificates of machines (practice software, insurer systems), issued by the platform
-- CA. Each maps to exactly one organisation and role; the private key is never stored.
CREATE TABLE client_certificates (
    id               BLOB NOT NULL,
    organisation_id  BLOB NOT NULL,
    role             TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    serial           TEXT NOT NULL,
    fingerprint      BLOB NOT NULL,
    not_before       TEXT NOT NULL,
    not_after        TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    revoked_at       TEXT,
    CONSTRAINT client_certificates_pkey PRIMARY KEY (id),
    CONSTRAINT client_certificates_fingerprint UNIQUE (fingerprint),
    CONSTRAINT client_certificates_organisation_fkey FOREIGN KEY (organisation_id) REFERENCES organisations (id)
);

CREATE INDEX client_certificates_organisation ON client_certificates (organisation_id);
