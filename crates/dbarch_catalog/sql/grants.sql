-- Privileges granted on relations, sequences and schemas to roles other than the owner.
-- kind: 'schema' or the relkind of the relation.
SELECT 'schema' AS kind, n.nspname AS schema, NULL::text AS name,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END AS grantee,
       a.privilege_type AS privilege, a.is_grantable AS grantable
FROM pg_namespace n, aclexplode(n.nspacl) a
WHERE a.grantee <> n.nspowner
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
UNION ALL
SELECT c.relkind::text, n.nspname, c.relname::text,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
       a.privilege_type, a.is_grantable
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace,
     aclexplode(c.relacl) a
WHERE a.grantee <> c.relowner
  AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '_dbarch')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY 1, 2, 3, 4, 5
