-- Prior approvals, invoices with their lines, and the beneficiaries' counters (renewal
-- deliveries, budget draws). Amounts are BIGINT cents; every adjudication step is stored
-- (approvals.answer, invoice_lines.steps: JSON).
CREATE TABLE approvals (
    id               BLOB NOT NULL,
    number           TEXT NOT NULL,
    insurer_id       BLOB NOT NULL,
    beneficiary_id   BLOB NOT NULL,
    organisation_id  BLOB NOT NULL,
    actor_id         BLOB NOT NULL,
    engagement_id    BLOB NOT NULL,
    contract_id      BLOB NOT NULL,
    domain           TEXT NOT NULL,
    status           TEXT NOT NULL,
    care_date        TEXT NOT NULL,
    valid_until      TEXT NOT NULL,
    total_cents      BIGINT NOT NULL,
    lines            TEXT NOT NULL,
    answer           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    closed_at        TEXT,
    CONSTRAINT approvals_pkey PRIMARY KEY (id),
    CONSTRAINT approvals_number UNIQUE (number),
    CONSTRAINT approvals_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    CONSTRAINT approvals_organisation_fkey FOREIGN KEY (organisation_id) REFERENCES organisations (id)
);

CREATE INDEX approvals_beneficiary ON approvals (insurer_id, beneficiary_id);

CREATE TABLE invoices (
    id               BLOB NOT NULL,
    insurer_id       BLOB NOT NULL,
    organisation_id  BLOB NOT NULL,
    actor_id         BLOB NOT NULL,
    engagement_id    BLOB NOT NULL,
    beneficiary_id   BLOB NOT NULL,
    approval_id      BLOB,
    contract_id      BLOB,
    contract_code    TEXT NOT NULL,
    domain           TEXT NOT NULL,
    care_date        TEXT NOT NULL,
    status           TEXT NOT NULL,
    total_cents      BIGINT NOT NULL,
    fingerprint      TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    CONSTRAINT invoices_pkey PRIMARY KEY (id),
    CONSTRAINT invoices_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    CONSTRAINT invoices_organisation_fkey FOREIGN KEY (organisation_id) REFERENCES organisations (id)
);

CREATE INDEX invoices_organisation ON invoices (organisation_id, created_at);
CREATE INDEX invoices_fingerprint ON invoices (organisation_id, fingerprint);

-- One row per line, with what a payment run needs (payee practice, insurer, domain, contract
-- code, care date, AMC amount) and paid_run_id (NULL until paid).
CREATE TABLE invoice_lines (
    invoice_id       BLOB NOT NULL,
    line_no          INTEGER NOT NULL,
    insurer_id       BLOB NOT NULL,
    organisation_id  BLOB NOT NULL,
    domain           TEXT NOT NULL,
    contract_code    TEXT NOT NULL,
    care_date        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    class            TEXT,
    complexity       TEXT,
    ear              TEXT,
    quantity         INTEGER NOT NULL,
    price_cents      BIGINT NOT NULL,
    br_cents         BIGINT NOT NULL,
    amo_cents        BIGINT NOT NULL,
    amc_cents        BIGINT NOT NULL,
    rejection        TEXT,
    steps            TEXT NOT NULL,
    paid_run_id      BLOB,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_id, line_no),
    CONSTRAINT invoice_lines_invoice_fkey FOREIGN KEY (invoice_id) REFERENCES invoices (id)
);

CREATE INDEX invoice_lines_unpaid ON invoice_lines (paid_run_id, organisation_id);

CREATE TABLE claim_counters (
    id               BLOB NOT NULL,
    insurer_id       BLOB NOT NULL,
    beneficiary_id   BLOB NOT NULL,
    counter          TEXT NOT NULL,
    domain           TEXT NOT NULL,
    ear              TEXT,
    budget           TEXT,
    amount_cents     BIGINT NOT NULL,
    counted_on       TEXT NOT NULL,
    approval_id      BLOB,
    invoice_id       BLOB,
    expires_on       TEXT,
    CONSTRAINT claim_counters_pkey PRIMARY KEY (id),
    CONSTRAINT claim_counters_insurer_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id)
);

CREATE INDEX claim_counters_beneficiary ON claim_counters (insurer_id, beneficiary_id);
CREATE INDEX claim_counters_approval ON claim_counters (approval_id);
