-- case: M004 CREATE INDEX CONCURRENTLY in a file the runner wraps
-- expect: M004
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);

-- case: M004 CREATE INDEX CONCURRENTLY inside an explicit BEGIN
-- expect: M004
BEGIN;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
COMMIT;

-- case: M004 after the COMMIT the statement runs in autocommit
-- expect: none
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
COMMIT;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_carrier_idx ON orders (carrier);

-- case: M004 REINDEX CONCURRENTLY in a wrapped file
-- expect: M004
REINDEX INDEX CONCURRENTLY orders_status_idx;

-- case: M004 REFRESH MATERIALIZED VIEW CONCURRENTLY may run in a transaction
-- expect: none
REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;

-- case: M004 concurrent build on a table created in the same wrapped file still fails
-- expect: M004
CREATE TABLE parcels (id bigint PRIMARY KEY, tracking text);
CREATE INDEX CONCURRENTLY parcels_tracking_idx ON parcels (tracking);

-- case: M004 sqlx no-transaction marker
-- expect: none
-- no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);

-- case: M036 BEGIN twice
-- expect: M036
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
BEGIN;
UPDATE orders SET carrier = 'ups' WHERE carrier IS NULL;
COMMIT;

-- case: M036 BEGIN in a file a runner wraps anyway
-- expect: M036
-- options: transaction
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
COMMIT;

-- case: M036 START TRANSACTION after BEGIN
-- expect: M036
BEGIN;
START TRANSACTION ISOLATION LEVEL SERIALIZABLE;
UPDATE orders SET carrier = 'ups' WHERE carrier IS NULL;
COMMIT;

-- case: M036 SAVEPOINT instead of a nested BEGIN
-- expect: none
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
SAVEPOINT backfill;
UPDATE orders SET carrier = 'ups' WHERE carrier IS NULL;
RELEASE SAVEPOINT backfill;
COMMIT;

-- case: M036 sequential transactions
-- expect: none
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
COMMIT;
BEGIN;
UPDATE orders SET carrier = 'ups' WHERE carrier IS NULL;
COMMIT;

-- case: M037 BEGIN without COMMIT
-- expect: M037
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;

-- case: M037 COMMIT AND CHAIN leaves a transaction open
-- expect: M037
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
COMMIT AND CHAIN;
UPDATE orders SET carrier = 'ups' WHERE carrier IS NULL;

-- case: M037 ROLLBACK closes it too
-- expect: none
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
ROLLBACK;

-- case: M037 END is COMMIT
-- expect: none
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
END;

-- case: M037 M036 second BEGIN and no COMMIT for the last one
-- expect: M036
BEGIN;
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
COMMIT;

-- case: M038 two concurrent builds without IF NOT EXISTS
-- expect: M038
-- options: no-transaction
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);

-- case: M038 a lone statement cannot fail part-way
-- expect: none
-- options: no-transaction
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);

-- case: M038 IF NOT EXISTS and IF EXISTS
-- expect: none
-- options: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);

-- case: M038 wrapped file: all or nothing
-- expect: none
-- not: M038
CREATE TABLE parcels (id bigint PRIMARY KEY);
CREATE TABLE parcel_events (id bigint PRIMARY KEY);

-- case: M038 statements inside an explicit transaction are undone together
-- expect: none
BEGIN;
CREATE TABLE parcels (id bigint PRIMARY KEY);
CREATE TABLE parcel_events (id bigint PRIMARY KEY);
COMMIT;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);

-- case: M038 statement before an explicit transaction
-- expect: M038
CREATE TABLE parcels (id bigint PRIMARY KEY);
BEGIN;
CREATE TABLE IF NOT EXISTS parcel_events (id bigint PRIMARY KEY);
COMMIT;

-- case: M038 M003 plain DROP INDEX followed by more work
-- expect: M003, M038
-- options: no-transaction
DROP INDEX orders_legacy_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);

-- case: M038 unnamed concurrent index cannot take IF NOT EXISTS
-- expect: M038
-- options: no-transaction
CREATE INDEX CONCURRENTLY ON orders (customer_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);

-- case: M038 CREATE TABLE and CREATE EXTENSION in a no-transaction file
-- expect: M038
-- dbarch:no-transaction
CREATE EXTENSION pg_trgm;
CREATE TABLE IF NOT EXISTS parcels (id bigint PRIMARY KEY);

-- case: M039 M002 index name over 63 bytes
-- expect: M002, M039
CREATE INDEX orders_customer_id_created_at_status_shipping_country_partial_idx ON orders (customer_id, created_at);

-- case: M039 quoted column name over 63 bytes
-- expect: M039
ALTER TABLE orders ADD COLUMN "preferred_delivery_window_start_time_in_the_customers_local_timezone" text;

-- case: M039 constraint name over 63 bytes in CREATE TABLE
-- expect: M039
CREATE TABLE parcels (
    id bigint PRIMARY KEY,
    weight numeric CONSTRAINT parcels_weight_must_be_positive_and_below_the_carrier_limit_check CHECK (weight > 0)
);

-- case: M039 exactly 63 bytes is kept whole
-- expect: none
-- options: no-transaction
CREATE INDEX CONCURRENTLY orders_customer_id_created_at_status_shipping_country_parts_idx ON orders (customer_id);

-- case: M039 a long name that is only referenced, not defined
-- expect: none
SELECT orders_customer_id_created_at_status_shipping_country_partial_idx_col FROM orders;

-- case: M039 multibyte name over 63 bytes but 35 characters
-- expect: M039
CREATE TABLE "заказы_покупателей_с_доставкой_курьером" (id bigint PRIMARY KEY);

-- case: M039 rename to a long name
-- expect: M039, M026
ALTER TABLE orders RENAME COLUMN status TO status_of_the_order_as_last_reported_by_the_fulfilment_provider_api;

-- case: M040 CREATE INDEX CONCURRENTLY on PostgreSQL 14.2
-- expect: M040
-- options: no-transaction, server_version_num=140002
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);

-- case: M040 REINDEX CONCURRENTLY on PostgreSQL 14.0
-- expect: M040
-- options: no-transaction, server_version_num=140000
REINDEX INDEX CONCURRENTLY orders_status_idx;

-- case: M040 fixed in 14.4
-- expect: none
-- options: no-transaction, server_version_num=140004
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);

-- case: M040 unknown server version stays silent
-- expect: none
-- options: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);

-- case: M040 M004 on 14.3 in a wrapped file
-- expect: M004, M040
-- options: server_version_num=140003
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);

-- case: M040 PostgreSQL 18 is not affected
-- expect: none
-- options: no-transaction, server_version_num=180001
REINDEX TABLE CONCURRENTLY orders;

-- case: M041 off by default
-- expect: none
-- not: M041
ALTER TABLE orders ADD COLUMN carrier text;

-- case: M041 enabled: ALTER TABLE without lock_timeout
-- expect: M041
-- options: enable=M041
ALTER TABLE orders ADD COLUMN carrier text;

-- case: M041 enabled: SET LOCAL lock_timeout first
-- expect: none
-- options: enable=M041
SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN carrier text;

-- case: M041 enabled: lock_timeout = 0 disables the timeout
-- expect: M041
-- options: enable=M041
SET lock_timeout = 0;
ALTER TABLE orders ADD COLUMN carrier text;

-- case: M041 enabled: only tables created in the file
-- expect: none
-- options: enable=M041
CREATE TABLE parcels (id bigint PRIMARY KEY);
ALTER TABLE parcels ADD COLUMN tracking text;
CREATE INDEX parcels_tracking_idx ON parcels (tracking);

-- case: M041 M002 enabled: a plain index build locks too
-- expect: M002, M041
-- options: enable=M041
CREATE INDEX orders_status_idx ON orders (status);

-- case: M041 enabled: a foreign key to an existing table locks it
-- expect: M041
-- options: enable=M041
CREATE TABLE parcels (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));

-- case: M039 64 bytes is cut
-- expect: M039
-- options: no-transaction
CREATE INDEX CONCURRENTLY orders_customer_id_created_at_status_shipping_country_partsx_idx ON orders (customer_id);
