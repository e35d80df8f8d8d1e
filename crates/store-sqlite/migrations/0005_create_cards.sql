-- Tiers-payant cards of a member family, one row per validity period.
CREATE TABLE cards (
    id                BLOB NOT NULL,
    insurer_id        BLOB NOT NULL,
    member_number     TEXT NOT NULL,
    convention_type   TEXT NOT NULL,
    routing_criterion TEXT NOT NULL,
    valid_from        TEXT NOT NULL,
    valid_to          TEXT NOT NULL,
    domains           TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    CONSTRAINT cards_pkey PRIMARY KEY (id),
    CONSTRAINT cards_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);

CREATE INDEX cards_member ON cards (insurer_id, member_number, valid_from, valid_to, id);
