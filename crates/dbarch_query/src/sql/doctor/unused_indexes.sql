-- Indexes never scanned since the statistics were reset, that enforce nothing (not unique,
-- not primary key, not backing a constraint), with the size of their table and how often the
-- table was read otherwise (an index on a table nobody reads yet is not "unused").
SELECT n.nspname::text, t.relname::text, i.relname::text,
       pg_relation_size(i.oid)::int8, pg_total_relation_size(t.oid)::int8,
       (SELECT stats_reset::text FROM pg_stat_database WHERE datname = current_database()),
       (coalesce(st.seq_scan, 0) + coalesce(st.idx_scan, 0))::int8
FROM pg_stat_user_indexes s
JOIN pg_stat_user_tables st ON st.relid = s.relid
JOIN pg_index x ON x.indexrelid = s.indexrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE s.idx_scan = 0
  AND NOT x.indisunique AND NOT x.indisprimary AND x.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2, 3
