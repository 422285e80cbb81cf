-- Tables (ordinary and partitioned), their partition and inheritance parents, RLS flags,
-- storage options and comments; sizes only when $1 (stats) is true.
SELECT n.nspname AS schema, c.relname AS name,
       c.relkind::text AS kind,
       c.relpersistence = 'u' AS unlogged,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       pn.nspname AS parent_schema, pc.relname AS parent_name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       ARRAY(SELECT inn.nspname || '.' || inc.relname
             FROM pg_inherits ih
             JOIN pg_class inc ON inc.oid = ih.inhparent
             JOIN pg_namespace inn ON inn.oid = inc.relnamespace
             WHERE ih.inhrelid = c.oid AND NOT c.relispartition
             ORDER BY ih.inhseqno) AS inherits,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       coalesce(c.reloptions, '{}') AS options,
       d.description AS comment,
       CASE WHEN $1 THEN c.reltuples::bigint END AS estimated_rows,
       CASE WHEN $1 THEN pg_table_size(c.oid) END AS table_bytes,
       CASE WHEN $1 THEN pg_indexes_size(c.oid) END AS indexes_bytes,
       CASE WHEN $1 THEN pg_total_relation_size(c.oid) END AS total_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits pi ON pi.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_class pc ON pc.oid = pi.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
LEFT JOIN pg_description d
  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')
ORDER BY n.nspname, c.relname
