-- dbarch:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;
