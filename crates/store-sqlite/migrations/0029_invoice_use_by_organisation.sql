-- The unused-checks review (0028) finds an engagement's invoice through the practice's invoices
-- by time, which every invoice already indexes, instead of an index of its own on
-- invoices (engagement_id): that index cost one more random-order b-tree insert per invoice
-- (~10 % of invoice throughput, docs/benchmarks.md). The practice's index now also carries the
-- engagement, so the review reads the index alone.
DROP INDEX invoices_engagement;
DROP INDEX invoices_organisation;
CREATE INDEX invoices_organisation ON invoices (organisation_id, created_at, engagement_id);
