CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint, legacy_code text);
INSERT INTO orders (customer_id, legacy_code) SELECT g, 'x' FROM generate_series(1, 20) g;
