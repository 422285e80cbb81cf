CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, created_at timestamptz);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_customer_created ON orders (customer_id, created_at);
CREATE UNIQUE INDEX orders_customer_unique ON orders (customer_id) WHERE created_at IS NULL;
