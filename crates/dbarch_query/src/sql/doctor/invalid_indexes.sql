-- Indexes marked invalid (a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY) that
-- are not being built right now.
SELECT n.nspname::text, t.relname::text, i.relname::text, x.indisunique,
       pg_get_indexdef(i.oid), pg_relation_size(i.oid)::int8
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT x.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.oid)
ORDER BY 1, 2, 3
