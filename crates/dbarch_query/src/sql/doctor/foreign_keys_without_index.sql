-- Foreign keys whose columns are not the leading columns (in any order) of a valid,
-- non-partial index on the referencing table.
SELECT n.nspname::text, t.relname::text, c.conname::text, c.confrelid::regclass::text,
       (SELECT array_agg(a.attname::text ORDER BY k.ord)
        FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
       pg_total_relation_size(t.oid)::int8
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (
    SELECT 1 FROM pg_index x
    WHERE x.indrelid = c.conrelid AND x.indisvalid AND x.indpred IS NULL
      AND (string_to_array(x.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] @> c.conkey
      AND (string_to_array(x.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] <@ c.conkey)
ORDER BY 1, 2, 3
