-- The foreign keys of beneficiaries and cards (to their insurer and contract) are checked at
-- COMMIT instead of after each statement, as in the SQLite store, where an immediate key made
-- every multi-row write of these tables keep a statement journal (store-sqlite migration 0033).
-- A broken key still fails the transaction, with the same error.
ALTER TABLE beneficiaries ALTER CONSTRAINT beneficiaries_insurer_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE beneficiaries ALTER CONSTRAINT beneficiaries_contract_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE cards ALTER CONSTRAINT cards_insurer_fkey DEFERRABLE INITIALLY DEFERRED;
