-- Estimated table bloat: the pages a table has against the pages its live rows need, from
-- pg_stats widths (tuple = line pointer + aligned header with null bitmap + aligned data),
-- the block size and the fillfactor. Only tables whose every column has statistics.
WITH t AS (
    SELECT c.oid, n.nspname, c.relname, c.reltuples::float8 AS tuples, c.relpages::int8 AS pages,
           current_setting('block_size')::int8 AS bs,
           coalesce((SELECT substr(o, 12)::int FROM unnest(c.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 100) AS ff,
           (SELECT count(*) FROM pg_attribute a
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS ncols
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND c.reltuples > 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
), w AS (
    SELECT t.oid, sum((1 - s.null_frac) * s.avg_width) AS width, count(*) AS nstats,
           bool_or(s.null_frac > 0) AS nulls
    FROM t
    JOIN pg_stats s ON s.schemaname = t.nspname AND s.tablename = t.relname AND NOT s.inherited
    GROUP BY t.oid
), e AS (
    SELECT t.*, 4 + 8 * ceil((23 + CASE WHEN w.nulls THEN ceil(t.ncols / 8.0) ELSE 0 END) / 8.0)
                  + 8 * ceil(w.width / 8.0) AS tuple_bytes
    FROM t JOIN w ON w.oid = t.oid AND w.nstats = t.ncols
)
SELECT nspname::text, relname::text, pages * bs AS actual_bytes,
       (ceil(tuples / greatest(1, floor((bs - 24) * ff / 100.0 / tuple_bytes))) * bs)::int8
           AS expected_bytes
FROM e
ORDER BY 1, 2
