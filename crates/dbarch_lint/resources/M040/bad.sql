-- dbarch-test: server_version_num=140002
-- dbarch:no-transaction
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
