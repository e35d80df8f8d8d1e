-- Blind index of the NIR (truncated keyed hash, 20 bits by default): exact lookups find
-- candidates, which the application unseals to confirm.
ALTER TABLE beneficiaries ADD COLUMN nir_index INTEGER NOT NULL DEFAULT 0;

CREATE INDEX beneficiaries_nir_index ON beneficiaries (insurer_id, nir_index);
