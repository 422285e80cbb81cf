-- User-defined enums, domains (with their CHECK constraints) and composite types.
SELECT n.nspname AS schema, t.typname AS name, t.typtype::text AS kind,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
             ORDER BY e.enumsortorder) AS labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       t.typnotnull AS not_null,
       t.typdefault AS default_expr,
       CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN quote_ident(co.collname) END AS collation,
       ARRAY(SELECT con.conname::text FROM pg_constraint con
             WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY con.conname) AS check_names,
       ARRAY(SELECT pg_get_constraintdef(con.oid) FROM pg_constraint con
             WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY con.conname) AS check_defs,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS attribute_names,
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS attribute_types,
       d.description AS comment
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation
LEFT JOIN pg_class rc ON rc.oid = t.typrelid
LEFT JOIN pg_description d
  ON d.objoid = t.oid AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0
WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND rc.relkind = 'c'))
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_type'::regclass AND dep.objid = t.oid AND dep.deptype = 'e')
ORDER BY n.nspname, t.typname
