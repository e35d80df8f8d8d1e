-- Guard alerts: which signal fired, for whom (ids only), what was done. Never an
-- identifying field.
CREATE TABLE alerts (
    id               UUID NOT NULL,
    signal           TEXT NOT NULL,
    severity         TEXT NOT NULL,
    account_id       UUID,
    organisation_id  UUID,
    action           TEXT NOT NULL,
    detail           TEXT NOT NULL,
    raised_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT alerts_pkey PRIMARY KEY (id)
);

CREATE INDEX alerts_raised ON alerts (raised_at);

-- Decoy cards: issued by the operator, held by no patient; a lookup of one suspends the
-- account. Not in cards (exports never reprint them).
CREATE TABLE decoy_cards (
    id             UUID NOT NULL,
    insurer_id     UUID NOT NULL,
    amc            TEXT NOT NULL,
    member_number  TEXT NOT NULL,
    code_hash      BYTEA NOT NULL,
    signing_kid    BIGINT NOT NULL,
    valid_from     DATE NOT NULL,
    valid_to       DATE NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT decoy_cards_pkey PRIMARY KEY (id),
    CONSTRAINT decoy_cards_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);

CREATE INDEX decoy_cards_member ON decoy_cards (amc, member_number);

-- A practice's declared opening hours (guard::hours format); NULL: always open.
ALTER TABLE practices ADD COLUMN opening_hours TEXT;
