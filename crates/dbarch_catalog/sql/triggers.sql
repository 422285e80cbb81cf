-- User triggers (internal ones, such as FK triggers, and clones on partitions are left out).
SELECT n.nspname AS schema, c.relname AS relation, tg.tgname AS name,
       pg_get_triggerdef(tg.oid) AS definition,
       tg.tgenabled <> 'D' AS enabled,
       d.description AS comment
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d
  ON d.objoid = tg.oid AND d.classoid = 'pg_trigger'::regclass AND d.objsubid = 0
WHERE NOT tg.tgisinternal AND tg.tgparentid = 0
  AND c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')
ORDER BY n.nspname, c.relname, tg.tgname
