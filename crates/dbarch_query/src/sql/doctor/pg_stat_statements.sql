-- Is pg_stat_statements preloaded, created in this database, and installable?
SELECT current_setting('shared_preload_libraries'),
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'),
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements')
