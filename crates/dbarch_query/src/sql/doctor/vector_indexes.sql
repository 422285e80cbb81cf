-- pgvector ANN indexes with their size, lists, table rows estimate and shared_buffers.
SELECT n.nspname::text, t.relname::text, i.relname::text, am.amname::text,
       coalesce((SELECT substr(o, 7)::int8 FROM unnest(i.reloptions) o WHERE o LIKE 'lists=%'),
                100),
       t.reltuples::float8, pg_relation_size(i.oid)::int8,
       pg_size_bytes(current_setting('shared_buffers'))::int8, pg_get_indexdef(i.oid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
WHERE am.amname IN ('hnsw', 'ivfflat')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3
