-- Free-standing sequences (identity sequences belong to their column) and their OWNED BY column.
SELECT n.nspname AS schema, c.relname AS name,
       format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min_value,
       s.seqmax AS max_value, s.seqcache AS cache, s.seqcycle AS cycle,
       otn.nspname AS owner_schema, ot.relname AS owner_table, oa.attname AS owner_column,
       d.description AS comment
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend od
  ON od.classid = 'pg_class'::regclass AND od.objid = c.oid
 AND od.refclassid = 'pg_class'::regclass AND od.deptype = 'a' AND od.refobjsubid > 0
LEFT JOIN pg_class ot ON ot.oid = od.refobjid
LEFT JOIN pg_namespace otn ON otn.oid = ot.relnamespace
LEFT JOIN pg_attribute oa ON oa.attrelid = od.refobjid AND oa.attnum = od.refobjsubid
LEFT JOIN pg_description d
  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype IN ('e', 'i'))
ORDER BY n.nspname, c.relname
