-- The guard's kill switches: lookups in a scope are off from engaged_at until released_at.
-- Kept after release, to answer "was a switch off at that time" (degraded-mode invoices).
CREATE TABLE kill_switches (
    id           UUID NOT NULL,
    scope_kind   TEXT NOT NULL,
    scope_value  TEXT NOT NULL,
    reason       TEXT,
    engaged_by   UUID,
    engaged_at   TIMESTAMPTZ NOT NULL,
    released_by  UUID,
    released_at  TIMESTAMPTZ,
    CONSTRAINT kill_switches_pkey PRIMARY KEY (id)
);

-- At most one open engagement per scope.
CREATE UNIQUE INDEX kill_switches_active ON kill_switches (scope_kind, scope_value) WHERE released_at IS NULL;
CREATE INDEX kill_switches_engaged ON kill_switches (engaged_at);

-- Suspensions of accounts (or machine certificates) and organisations by the guard or an
-- operator; lifting closes them.
CREATE TABLE suspensions (
    id               UUID NOT NULL,
    subject          TEXT NOT NULL,
    subject_id       UUID NOT NULL,
    organisation_id  UUID NOT NULL,
    signal           TEXT NOT NULL,
    reason           TEXT NOT NULL,
    suspended_at     TIMESTAMPTZ NOT NULL,
    lifted_at        TIMESTAMPTZ,
    lifted_by        UUID,
    CONSTRAINT suspensions_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX suspensions_active ON suspensions (subject, subject_id) WHERE lifted_at IS NULL;
CREATE INDEX suspensions_organisation ON suspensions (organisation_id, suspended_at);
