-- smallint and integer columns of primary keys, unique constraints and foreign keys that no
-- sequence feeds (those are the sequence check's), with the largest value ANALYZE saw: the
-- histogram's upper bound or the largest most common value.
SELECT s.schemaname::text, s.tablename::text, s.attname::text, format_type(a.atttypid, NULL),
       greatest((s.histogram_bounds::text::int8[])[cardinality(s.histogram_bounds::text::int8[])],
                (SELECT max(v) FROM unnest(s.most_common_vals::text::int8[]) v))
FROM pg_stats s
JOIN pg_namespace n ON n.nspname = s.schemaname
JOIN pg_class t ON t.relname = s.tablename AND t.relnamespace = n.oid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = s.attname
WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype) AND NOT s.inherited
  AND s.schemaname NOT IN ('pg_catalog', 'information_schema')
  AND EXISTS (SELECT 1 FROM pg_constraint c
              WHERE c.conrelid = t.oid AND c.contype IN ('p', 'u', 'f') AND a.attnum = ANY (c.conkey))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class sq ON sq.oid = d.objid
                  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                    AND d.refobjid = t.oid AND d.refobjsubid = a.attnum
                    AND d.deptype IN ('a', 'i') AND sq.relkind = 'S')
ORDER BY 1, 2, 3
