-- Card domains as compact text, `PHAR=100%;MED=100%;…;OPTI=PEC` (docs/formats.md), instead of
-- the JSON list `[{"domain":"PHAR","regime":"100%"},…]`: 95 bytes instead of 337 for the ten
-- standard domains, on every card row an import writes. Rows in the old form are rewritten,
-- domains in list order.
UPDATE cards
SET domains = COALESCE(
    (SELECT string_agg((d.entry ->> 'domain') || '=' || (d.entry ->> 'regime'), ';' ORDER BY d.n)
     FROM jsonb_array_elements(cards.domains::jsonb) WITH ORDINALITY AS d(entry, n)),
    '')
WHERE domains LIKE '[%';
