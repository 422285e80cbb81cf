-- Client sessions of the current database other than ours: state, seconds since the query
-- started and since the state changed, and the sessions blocking each one.
SELECT pid, coalesce(usename::text, ''), coalesce(state, ''),
       coalesce(extract(epoch FROM now() - query_start), 0)::float8,
       coalesce(extract(epoch FROM now() - state_change), 0)::float8,
       left(regexp_replace(coalesce(query, ''), '\s+', ' ', 'g'), 120),
       pg_blocking_pids(pid)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
ORDER BY 1
