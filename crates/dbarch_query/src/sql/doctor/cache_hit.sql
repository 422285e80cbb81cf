-- Buffer cache hits and reads of the current database since the statistics were reset.
SELECT current_database()::text, blks_hit::int8, blks_read::int8
FROM pg_stat_database
WHERE datname = current_database()
