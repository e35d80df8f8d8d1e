-- Payment runs (one per cycle; a run is recorded and its invoice lines claimed —
-- invoice_lines.paid_run_id set — in one transaction before any file is written), the payees'
-- sealed IBANs as they stood at the claim (so a resumed run writes the same files), the
-- transfers once written (statement id, amount, the statement CSV), and the practices'
-- IBAN changes (requested, confirmed by a second operator, applied after a cooling-off).
CREATE TABLE payment_runs (
    id              UUID NOT NULL,
    cutoff_date     DATE NOT NULL,
    execution_date  DATE NOT NULL,
    status          TEXT NOT NULL,
    created_by      UUID,
    created_at      TIMESTAMPTZ NOT NULL,
    written_at      TIMESTAMPTZ,
    line_count      BIGINT NOT NULL,
    transfer_count  BIGINT NOT NULL,
    total_cents     BIGINT NOT NULL,
    CONSTRAINT payment_runs_pkey PRIMARY KEY (id)
);

CREATE INDEX payment_runs_status ON payment_runs (status, cutoff_date);
CREATE INDEX invoice_lines_paid_run ON invoice_lines (paid_run_id, invoice_id, line_no);

CREATE TABLE payment_run_payees (
    run_id       UUID NOT NULL,
    practice_id  UUID NOT NULL,
    name         TEXT NOT NULL,
    iban_sealed  BYTEA NOT NULL,
    CONSTRAINT payment_run_payees_pkey PRIMARY KEY (run_id, practice_id),
    CONSTRAINT payment_run_payees_run_fkey FOREIGN KEY (run_id) REFERENCES payment_runs (id)
);

CREATE TABLE payment_transfers (
    run_id          UUID NOT NULL,
    practice_id     UUID NOT NULL,
    seq             BIGINT NOT NULL,
    statement_id    TEXT NOT NULL,
    execution_date  DATE NOT NULL,
    amount_cents    BIGINT NOT NULL,
    line_count      BIGINT NOT NULL,
    statement_csv   TEXT NOT NULL,
    CONSTRAINT payment_transfers_pkey PRIMARY KEY (run_id, practice_id),
    CONSTRAINT payment_transfers_statement UNIQUE (statement_id),
    CONSTRAINT payment_transfers_run_fkey FOREIGN KEY (run_id) REFERENCES payment_runs (id)
);

CREATE INDEX payment_transfers_practice ON payment_transfers (practice_id, execution_date);

CREATE TABLE iban_changes (
    id            UUID NOT NULL,
    practice_id   UUID NOT NULL,
    iban_sealed   BYTEA NOT NULL,
    status        TEXT NOT NULL,
    requested_by  UUID NOT NULL,
    requested_at  TIMESTAMPTZ NOT NULL,
    confirmed_by  UUID,
    confirmed_at  TIMESTAMPTZ,
    effective_at  TIMESTAMPTZ,
    applied_at    TIMESTAMPTZ,
    cancelled_by  UUID,
    cancelled_at  TIMESTAMPTZ,
    CONSTRAINT iban_changes_pkey PRIMARY KEY (id),
    CONSTRAINT iban_changes_practice_fkey FOREIGN KEY (practice_id) REFERENCES practices (id)
);

CREATE UNIQUE INDEX iban_changes_open ON iban_changes (practice_id)
    WHERE status IN ('requested', 'confirmed');
