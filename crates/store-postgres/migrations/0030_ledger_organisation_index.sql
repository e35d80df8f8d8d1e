-- One index for the ledger's organisation and account filters instead of two (issue 5). Each
-- secondary index of ledger_entries costs every append an index insertion at a random place;
-- the account index was one of three such per entry. An account belongs to one organisation
-- for life, so the console reads an account's entries through its organisation's range of
-- this index, with account_id carried in the index (no heap read for the other accounts'
-- entries). A filter by account alone (no organisation known) reads the primary key backwards.
DROP INDEX ledger_entries_account;
DROP INDEX ledger_entries_organisation;
CREATE INDEX ledger_entries_organisation ON ledger_entries (organisation_id, leaf_index) INCLUDE (account_id);
