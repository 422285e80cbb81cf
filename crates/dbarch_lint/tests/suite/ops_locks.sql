-- case: M003 plain DROP INDEX on an existing index
-- expect: M003
DROP INDEX orders_status_idx;

-- case: M003 DROP INDEX IF EXISTS still takes the lock
-- expect: M003
DROP INDEX IF EXISTS public.orders_status_idx;

-- case: M003 several indexes in one DROP: one finding each
-- expect: M003
DROP INDEX orders_status_idx, orders_created_at_idx;

-- case: M003 index created earlier in the same file
-- expect: none
-- not: M003
CREATE TABLE parcels (id bigint PRIMARY KEY, tracking text);
CREATE INDEX parcels_tracking_idx ON parcels (tracking);
DROP INDEX parcels_tracking_idx;

-- case: M003 DROP INDEX CONCURRENTLY in a no-transaction file
-- expect: none
-- options: no-transaction
DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;

-- case: M003 ignore directive with a reason
-- expect: none
-- dbarch:ignore M003 lookup table of 40 rows
DROP INDEX currencies_name_idx;

-- case: M003 M004 DROP INDEX CONCURRENTLY in a wrapped file is M004, not M003
-- expect: M004
-- not: M003
DROP INDEX CONCURRENTLY orders_status_idx;

-- case: M005 REINDEX INDEX without CONCURRENTLY
-- expect: M005
REINDEX INDEX orders_status_idx;

-- case: M005 REINDEX TABLE with options but no CONCURRENTLY
-- expect: M005
REINDEX (VERBOSE) TABLE orders;

-- case: M005 REINDEX CONCURRENTLY in a no-transaction file
-- expect: none
-- options: no-transaction
REINDEX TABLE CONCURRENTLY orders;

-- case: M005 REINDEX with the CONCURRENTLY option spelled in parentheses
-- expect: none
-- options: no-transaction
REINDEX (CONCURRENTLY) INDEX orders_status_idx;

-- case: M005 REINDEX (CONCURRENTLY false) is not concurrent
-- expect: M005
REINDEX (CONCURRENTLY false) INDEX orders_status_idx;

-- case: M005 REINDEX of a table created in the same file
-- expect: none
CREATE TABLE parcels (id bigint PRIMARY KEY);
REINDEX TABLE parcels;

-- case: M005 REINDEX SYSTEM has no concurrent form
-- expect: none
-- options: no-transaction
REINDEX SYSTEM;

-- case: M006 REFRESH MATERIALIZED VIEW without CONCURRENTLY
-- expect: M006
REFRESH MATERIALIZED VIEW order_totals;

-- case: M006 REFRESH CONCURRENTLY is fine, even in a transaction
-- expect: none
REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;

-- case: M006 materialized view created earlier in the same file
-- expect: none
CREATE MATERIALIZED VIEW daily_totals AS SELECT 1 AS day, 2 AS n WITH NO DATA;
REFRESH MATERIALIZED VIEW daily_totals;

-- case: M006 WITH NO DATA cannot be concurrent
-- expect: none
REFRESH MATERIALIZED VIEW order_totals WITH NO DATA;

-- case: M006 in a no-transaction file too
-- expect: M006
-- options: no-transaction
REFRESH MATERIALIZED VIEW reporting.order_totals;

-- case: M007 DETACH PARTITION without CONCURRENTLY
-- expect: M007
ALTER TABLE measurements DETACH PARTITION measurements_2024;

-- case: M007 DETACH PARTITION CONCURRENTLY in a no-transaction file
-- expect: none
-- options: no-transaction
ALTER TABLE measurements DETACH PARTITION measurements_2024 CONCURRENTLY;

-- case: M007 M004 DETACH CONCURRENTLY in a wrapped file
-- expect: M004
-- not: M007
ALTER TABLE measurements DETACH PARTITION measurements_2024 CONCURRENTLY;

-- case: M007 partitioned table created in the same file
-- expect: none
CREATE TABLE readings (at timestamptz NOT NULL, v float8) PARTITION BY RANGE (at);
CREATE TABLE readings_2024 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE readings DETACH PARTITION readings_2024;

-- case: M007 DETACH ... FINALIZE is the end of a concurrent detach
-- expect: none
-- options: no-transaction
ALTER TABLE measurements DETACH PARTITION measurements_2024 FINALIZE;

-- case: M007 ATTACH PARTITION is another matter
-- expect: none
-- not: M007
ALTER TABLE measurements ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

-- case: M008 VACUUM FULL of a table
-- expect: M008
-- options: no-transaction
VACUUM FULL orders;

-- case: M008 VACUUM (FULL) of the whole database
-- expect: M008
-- options: no-transaction
VACUUM (FULL, ANALYZE);

-- case: M008 plain VACUUM and FULL false are fine
-- expect: none
-- options: no-transaction
VACUUM (ANALYZE) orders;
VACUUM (FULL false) orders;

-- case: M008 VACUUM FULL of a table created in the same file
-- expect: none
-- options: no-transaction
CREATE TABLE IF NOT EXISTS scratch (id bigint PRIMARY KEY);
VACUUM FULL scratch;

-- case: M008 ignore directive
-- expect: none
-- options: no-transaction
VACUUM FULL tiny_lookup; -- dbarch:ignore M008 12 rows, maintenance window

-- case: M009 CLUSTER a table on an index
-- expect: M009
CLUSTER orders USING orders_created_at_idx;

-- case: M009 CLUSTER without a table
-- expect: M009
-- options: no-transaction
CLUSTER;

-- case: M009 CLUSTER a table created in the same file
-- expect: none
CREATE TABLE parcels (id bigint PRIMARY KEY);
CLUSTER parcels USING parcels_pkey;

-- case: M009 ALTER TABLE ... CLUSTER ON only marks the index
-- expect: none
-- not: M009
ALTER TABLE orders CLUSTER ON orders_created_at_idx;

-- case: M010 LOCK TABLE without a mode is ACCESS EXCLUSIVE
-- expect: M010
LOCK TABLE orders;

-- case: M010 LOCK TABLE IN SHARE MODE blocks writes
-- expect: M010
LOCK TABLE orders IN SHARE MODE;

-- case: M010 weak modes do not block traffic
-- expect: none
LOCK TABLE orders IN ROW EXCLUSIVE MODE;
LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE;
LOCK TABLE orders IN ACCESS SHARE MODE;

-- case: M010 lock on a table created in the same file
-- expect: none
CREATE TABLE parcels (id bigint PRIMARY KEY);
LOCK TABLE parcels IN ACCESS EXCLUSIVE MODE;

-- case: M010 two tables, one finding each
-- expect: M010
LOCK TABLE orders, order_lines IN EXCLUSIVE MODE NOWAIT;

-- case: M011 TRUNCATE an existing table
-- expect: M011
TRUNCATE orders;

-- case: M011 TRUNCATE ... CASCADE
-- expect: M011
TRUNCATE TABLE customers RESTART IDENTITY CASCADE;

-- case: M011 TRUNCATE a staging table created in the same file
-- expect: none
CREATE TABLE import_staging (id bigint PRIMARY KEY, payload jsonb);
TRUNCATE import_staging;

-- case: M011 ignore directive with a reason
-- expect: none
-- dbarch:ignore M011 cache table, rebuilt by the nightly job
TRUNCATE product_cache;

-- case: M011 a batched DELETE is not flagged
-- expect: none
DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE status = 'cancelled' LIMIT 10000);

-- case: M012 SET TABLESPACE on an existing table
-- expect: M012
ALTER TABLE events SET TABLESPACE fast_ssd;

-- case: M012 SET LOGGED and SET UNLOGGED
-- expect: M012
ALTER TABLE audit_log SET UNLOGGED;

-- case: M012 SET ACCESS METHOD to another access method
-- expect: M012
ALTER TABLE events SET ACCESS METHOD columnar;

-- case: M012 SET ACCESS METHOD heap changes nothing on a heap table
-- expect: none
ALTER TABLE events SET ACCESS METHOD heap;

-- case: M012 a table created in the same file
-- expect: none
CREATE UNLOGGED TABLE import_staging (id bigint PRIMARY KEY);
ALTER TABLE import_staging SET LOGGED;

-- case: M012 ALTER INDEX SET TABLESPACE is not a table rewrite
-- expect: none
-- not: M012
ALTER INDEX orders_status_idx SET TABLESPACE fast_ssd;

-- case: M008 old-style VACUUM FULL ANALYZE with a schema
-- expect: M008
-- options: no-transaction
VACUUM FULL ANALYZE sales.orders;

-- case: M009 ignore directive with a reason
-- expect: none
-- dbarch:ignore M009 run in the maintenance window of 2026-12-01
CLUSTER orders USING orders_created_at_idx;
