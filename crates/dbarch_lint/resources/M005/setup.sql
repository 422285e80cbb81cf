CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint, status text);
CREATE INDEX orders_status_idx ON orders (status);
INSERT INTO orders (customer_id, status) SELECT g, 'new' FROM generate_series(1, 20) g;
