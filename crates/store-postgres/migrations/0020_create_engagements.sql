-- Engagements: the payment guarantees given by rights checks, quoted by the practice that
-- obtained them on a prior-approval request or an invoice (looked up by number, scoped to that
-- organisation). The number is random (100 bits) and unique.
CREATE TABLE engagements (
    id               UUID NOT NULL,
    number           TEXT NOT NULL,
    insurer_id       UUID NOT NULL,
    beneficiary_id   UUID NOT NULL,
    card_id          UUID NOT NULL,
    organisation_id  UUID NOT NULL,
    actor_id         UUID NOT NULL,
    domain           TEXT NOT NULL,
    -- The rate in basis points; NULL: prior approval (PEC).
    rate_bp          INTEGER,
    care_date        DATE NOT NULL,
    valid_until      DATE NOT NULL,
    request_id       UUID NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT engagements_pkey PRIMARY KEY (id),
    CONSTRAINT engagements_number UNIQUE (number),
    CONSTRAINT engagements_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    CONSTRAINT engagements_organisation_fkey FOREIGN KEY (organisation_id) REFERENCES organisations (id)
);

CREATE INDEX engagements_beneficiary ON engagements (insurer_id, beneficiary_id);

-- A beneficiary's report that they do not recognise an access of their log: one per ledger
-- entry; raises an operator alert.
CREATE TABLE not_me_reports (
    id                        UUID NOT NULL,
    insurer_id                UUID NOT NULL,
    entry                     BIGINT NOT NULL,
    accessor_organisation_id  UUID NOT NULL,
    reported_by               UUID NOT NULL,
    created_at                TIMESTAMPTZ NOT NULL,
    CONSTRAINT not_me_reports_pkey PRIMARY KEY (id),
    CONSTRAINT not_me_reports_entry UNIQUE (entry),
    CONSTRAINT not_me_reports_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);

CREATE INDEX not_me_reports_insurer ON not_me_reports (insurer_id, created_at);
