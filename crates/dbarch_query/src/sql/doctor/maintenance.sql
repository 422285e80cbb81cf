-- Tables with modifications that were never analyzed, or with dead rows never vacuumed.
SELECT schemaname::text, relname::text, n_mod_since_analyze::int8, n_dead_tup::int8,
       (last_analyze IS NULL AND last_autoanalyze IS NULL),
       (last_vacuum IS NULL AND last_autovacuum IS NULL)
FROM pg_stat_user_tables
WHERE (last_analyze IS NULL AND last_autoanalyze IS NULL AND n_mod_since_analyze > 0)
   OR (last_vacuum IS NULL AND last_autovacuum IS NULL AND n_dead_tup > 0)
ORDER BY 1, 2
