-- One index for the ledger's organisation and account filters instead of two (issue 5). Each
-- secondary index of ledger_entries costs every append a page written at a random place (the
-- WAL gets one frame per dirty page per group commit); the account index was one of three
-- such pages per entry. An account belongs to one organisation for life, so the console reads
-- an account's entries through its organisation's range of this index, with account_id in the
-- index itself (no table read for the other accounts' entries). A filter by account alone
-- (no organisation known) reads the table backwards by leaf index. docs/benchmarks.md has the
-- A/B: appends +18 to +50 %.
DROP INDEX ledger_entries_account;
DROP INDEX ledger_entries_organisation;
CREATE INDEX ledger_entries_organisation ON ledger_entries (organisation_id, leaf_index, account_id);
