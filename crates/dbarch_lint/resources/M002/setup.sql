CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, reference text);
INSERT INTO orders SELECT g, g % 10, 'r' || g FROM generate_series(1, 100) g;
