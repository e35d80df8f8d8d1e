-- Professionals (persons) attached to a practice; (kind, national id) is unique.
CREATE TABLE professionals (
    id               BLOB NOT NULL,
    practice_id      BLOB NOT NULL,
    national_id_kind TEXT NOT NULL,
    national_id      TEXT NOT NULL,
    profession       TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    CONSTRAINT professionals_pkey PRIMARY KEY (id),
    CONSTRAINT professionals_national_id UNIQUE (national_id_kind, national_id),
    CONSTRAINT professionals_practice_fkey FOREIGN KEY (practice_id) REFERENCES practices (id)
);

CREATE INDEX professionals_practice ON professionals (practice_id, created_at, id);
