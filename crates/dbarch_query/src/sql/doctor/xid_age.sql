-- Transaction ID age of every database: VACUUM must freeze before 2^31.
SELECT datname::text, age(datfrozenxid)::int8
FROM pg_database
WHERE datallowconn
ORDER BY 1
