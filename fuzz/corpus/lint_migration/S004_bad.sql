CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, created_at timestamptz);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_customer_created ON orders (customer_id, created_at);
