-- Ascending sequences with their last value and limits, and the column each one feeds
-- (serial: auto dependency; identity: internal), whose type may be narrower than the sequence.
SELECT s.schemaname::text, s.sequencename::text, s.data_type::text, s.last_value::int8,
       s.max_value::int8, tn.nspname::text, t.relname::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod)
FROM pg_sequences s
JOIN pg_namespace sn ON sn.nspname = s.schemaname
JOIN pg_class sc ON sc.relname = s.sequencename AND sc.relnamespace = sn.oid
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = sc.oid
      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
LEFT JOIN pg_class t ON t.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE s.last_value IS NOT NULL AND s.increment_by > 0
  AND s.schemaname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
