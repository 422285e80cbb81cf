-- dbarch:ignore M002 the index was needed once
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
