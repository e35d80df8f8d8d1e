-- The guard's "unused checks" review (issue 7): per account, the rights checks of a window and
-- whether an approval or an invoice named each one's engagement.
CREATE INDEX engagements_created ON engagements (created_at);
CREATE INDEX approvals_engagement ON approvals (engagement_id);
CREATE INDEX invoices_engagement ON invoices (engagement_id);
