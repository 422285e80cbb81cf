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
       kp.key_columns, kp.key_defs, kp.opclasses, kp.collations, kp.key_options,
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
-- Key parts in one pass: a column name for column keys, the printed expression otherwise
-- (pg_get_indexdef per key is costly, so only for expressions).
CROSS JOIN LATERAL (
  SELECT array_agg(a.attname::text ORDER BY k) AS key_columns,
         array_agg(CASE WHEN x.indkey[k - 1] = 0 THEN pg_get_indexdef(i.oid, k, false) END
                   ORDER BY k) AS key_defs,
         coalesce(array_agg(CASE WHEN oc.opcdefault THEN NULL ELSE oc.opcname::text END ORDER BY k)
                  FILTER (WHERE k <= x.indnkeyatts), '{}') AS opclasses,
         coalesce(array_agg(CASE WHEN x.indcollation[k - 1] IN (0, coalesce(a.attcollation, 100))
                                 THEN NULL ELSE quote_ident(co.collname) END ORDER BY k)
                  FILTER (WHERE k <= x.indnkeyatts), '{}') AS collations,
         coalesce(array_agg(x.indoption[k - 1]::int ORDER BY k)
                  FILTER (WHERE k <= x.indnkeyatts), '{}') AS key_options
  FROM generate_series(1, x.indnatts) k
  LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]
  LEFT JOIN pg_opclass oc ON oc.oid = x.indclass[k - 1] AND k <= x.indnkeyatts
  LEFT JOIN pg_collation co ON co.oid = x.indcollation[k - 1] AND k <= x.indnkeyatts
) kp
WHERE t.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = t.oid AND dep.deptype = 'e')
ORDER BY n.nspname, t.relname, i.relname
