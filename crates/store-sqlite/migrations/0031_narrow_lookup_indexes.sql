-- The lookup indexes of beneficiaries and cards keep only the looked-up value: every query
-- that uses them also filters on insurer_id, which the row itself answers (a member number is
-- rarely reused across insurers; a blind-index bucket holds a few dozen rows at national
-- scale, whatever the insurer). Their keys are random (a file's members come in any order, the
-- blind index is a keyed hash), so an import touches most of their pages in every batch;
-- without the 16-byte insurer id (and, for the member indexes, the rank, validity and id a
-- sort of a family's few rows gives back) they are three to four times smaller, and a 1M-row
-- import 1.4 times faster (docs/benchmarks.md).
DROP INDEX beneficiaries_member;
CREATE INDEX beneficiaries_member ON beneficiaries (member_number);

DROP INDEX beneficiaries_nir_index;
CREATE INDEX beneficiaries_nir_index ON beneficiaries (nir_index);

DROP INDEX cards_member;
CREATE INDEX cards_member ON cards (member_number);
