-- The import that last saw a beneficiary: a full import closes those it did not see.
ALTER TABLE beneficiaries ADD COLUMN last_import_id BLOB;
