-- dbarch:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY orders_reference_key ON orders (reference);
ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE USING INDEX orders_reference_key;
