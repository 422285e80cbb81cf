-- Indexes of tables and materialized views: method, key parts (column or expression, non-default
-- opclass and collation, direction), INCLUDE columns, predicate, options, validity, the
-- constraint they implement and, for a partition's index, the parent index it is attached to.
SELECT n.nspname AS schema, t.relname AS relation, i.relname AS name,
       am.amname AS method,
       pg_get_indexdef(i.oid) AS definition,
       x.indisunique AS is_unique, x.indnullsnotdistinct AS nulls_not_distinct,
       x.indisvalid AS valid,
       pg_get_expr(x.indpred, x.indrelid) AS predicate,
       coalesce(i.reloptions, '{}') AS options,
       con.conname AS constraint_name,
       ppn.nspname AS parent_index_schema, pp.relname AS parent_index_name,
       x.indnkeyatts::int AS key_count,
       ARRAY(SELECT CASE WHEN x.indkey[k - 1] = 0 THEN NULL ELSE a.attname::text END
             FROM generate_series(1, x.indnatts) k
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]
             ORDER BY k) AS key_columns,
       ARRAY(SELECT pg_get_indexdef(i.oid, k, false)
             FROM generate_series(1, x.indnatts) k ORDER BY k) AS key_defs,
       ARRAY(SELECT CASE WHEN oc.opcdefault THEN NULL ELSE oc.opcname::text END
             FROM generate_series(1, x.indnkeyatts) k
             JOIN pg_opclass oc ON oc.oid = x.indclass[k - 1]
             ORDER BY k) AS opclasses,
       ARRAY(SELECT CASE WHEN x.indcollation[k - 1] IN (0, coalesce(a.attcollation, 100)) THEN NULL
                         ELSE quote_ident(co.collname) END
             FROM generate_series(1, x.indnkeyatts) k
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]
             LEFT JOIN pg_collation co ON co.oid = x.indcollation[k - 1]
             ORDER BY k) AS collations,
       ARRAY(SELECT x.indoption[k - 1]::int FROM generate_series(1, x.indnkeyatts) k ORDER BY k)
         AS key_options,
       d.description AS comment
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_constraint con
  ON con.conindid = i.oid AND con.conrelid = t.oid AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_inherits pih ON pih.inhrelid = i.oid
LEFT JOIN pg_class pp ON pp.oid = pih.inhparent
LEFT JOIN pg_namespace ppn ON ppn.oid = pp.relnamespace
LEFT JOIN pg_description d
  ON d.objoid = i.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE t.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = t.oid AND dep.deptype = 'e')
ORDER BY n.nspname, t.relname, i.relname
