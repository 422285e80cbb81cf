-- Views and materialized views with their queries, options and the relations they read.
SELECT n.nspname AS schema, c.relname AS name,
       c.relkind = 'm' AS materialized,
       pg_get_viewdef(c.oid) AS definition,
       coalesce(c.reloptions, '{}') AS options,
       ARRAY(SELECT DISTINCT rn.nspname || '.' || rc.relname
             FROM pg_rewrite r
             JOIN pg_depend dep ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = r.oid
                               AND dep.refclassid = 'pg_class'::regclass
             JOIN pg_class rc ON rc.oid = dep.refobjid
             JOIN pg_namespace rn ON rn.oid = rc.relnamespace
             WHERE r.ev_class = c.oid AND rc.oid <> c.oid
               AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')
               AND rn.nspname NOT IN ('pg_catalog', 'information_schema')) AS depends_on,
       d.description AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d
  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend dep
    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')
ORDER BY n.nspname, c.relname
