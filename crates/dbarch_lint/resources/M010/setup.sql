CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint, status text);
INSERT INTO orders (customer_id, status) SELECT g, 'new' FROM generate_series(1, 20) g;
