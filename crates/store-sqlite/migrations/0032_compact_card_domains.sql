-- Card domains as compact text, `PHAR=100%;MED=100%;…;OPTI=PEC` (docs/formats.md), instead of
-- the JSON list `[{"domain":"PHAR","regime":"100%"},…]`: 95 bytes instead of 337 for the ten
-- standard domains, on every card row an import writes. Rows in the old form are rewritten,
-- domains in list order.
UPDATE cards
SET domains = COALESCE(
    (SELECT group_concat(json_extract(d.value, '$.domain') || '=' || json_extract(d.value, '$.regime'), ';' ORDER BY d.key)
     FROM json_each(cards.domains) AS d),
    '')
WHERE domains LIKE '[%';
