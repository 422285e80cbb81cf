-- User schemas with their comments.
SELECT n.nspname AS name, d.description AS comment
FROM pg_namespace n
LEFT JOIN pg_description d
  ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_namespace'::regclass AND dep.objid = n.oid AND dep.deptype = 'e')
ORDER BY n.nspname
