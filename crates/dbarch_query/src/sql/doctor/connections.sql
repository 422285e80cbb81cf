-- Client connections in use against what the server accepts for ordinary users.
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int8,
       current_setting('max_connections')::int8,
       current_setting('superuser_reserved_connections')::int8
