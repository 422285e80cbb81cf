-- dbarch:no-transaction
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
CREATE TABLE lines (id bigint PRIMARY KEY, order_id bigint);
CREATE INDEX lines_order_id_idx ON lines (order_id);
CREATE INDEX measurements_at_idx ON ONLY measurements (at);
