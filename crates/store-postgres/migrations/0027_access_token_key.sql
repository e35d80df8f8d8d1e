-- A new platform secret: the access-token key (the keyed hashes of invitation tokens and
-- session ids), kept wrapped by the KEK like every other key instead of a file.
ALTER TABLE data_keys DROP CONSTRAINT data_keys_purpose;
ALTER TABLE data_keys ADD CONSTRAINT data_keys_purpose
    CHECK (purpose IN ('seal', 'blind_index', 'card_signing', 'card_code', 'pseudonym', 'ledger_signing', 'access_token'));
