-- Estimated btree index bloat: the pages an index has against the pages its entries need,
-- from pg_stats widths of its key columns (index tuple = line pointer + aligned 8-byte
-- header + aligned data), the block size, the page's special space and the fillfactor (90
-- by default), plus the metapage. Column indexes only (no expressions).
WITH x AS (
    SELECT i.oid, n.nspname, t.relname AS tbl, i.relname AS idx, i.reltuples::float8 AS tuples,
           i.relpages::int8 AS pages, current_setting('block_size')::int8 AS bs,
           coalesce((SELECT substr(o, 12)::int FROM unnest(i.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 90) AS ff,
           string_to_array(ix.indkey::text, ' ')::int2[] AS keys, ix.indrelid
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    WHERE am.amname = 'btree' AND ix.indisvalid AND ix.indexprs IS NULL AND i.reltuples > 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
), w AS (
    SELECT x.oid, sum((1 - s.null_frac) * s.avg_width) AS width, count(*) AS nstats,
           bool_or(s.null_frac > 0) AS nulls
    FROM x
    CROSS JOIN LATERAL unnest(x.keys) k(attnum)
    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    JOIN pg_stats s ON s.schemaname = x.nspname AND s.tablename = x.tbl
                   AND s.attname = a.attname AND NOT s.inherited
    GROUP BY x.oid
), e AS (
    SELECT x.*, 4 + 8 * ceil((8 + CASE WHEN w.nulls THEN 8 ELSE 0 END + w.width) / 8.0)
                  AS tuple_bytes
    FROM x JOIN w ON w.oid = x.oid AND w.nstats = cardinality(x.keys)
)
SELECT nspname::text, tbl::text, idx::text, pages * bs AS actual_bytes,
       ((1 + ceil(tuples / greatest(1, floor((bs - 24 - 16) * ff / 100.0 / tuple_bytes)))) * bs)::int8
           AS expected_bytes
FROM e
ORDER BY 1, 2, 3
