CREATE TABLE legacy_orders (id bigint PRIMARY KEY, payload text);
INSERT INTO legacy_orders SELECT g, 'x' FROM generate_series(1, 20) g;
