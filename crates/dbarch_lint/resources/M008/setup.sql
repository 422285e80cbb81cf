CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint, status text);
-- Enough rows for the rewrite to last a while (the lock is observed from another session).
INSERT INTO orders (customer_id, status) SELECT g, 'new' FROM generate_series(1, 200000) g;
DELETE FROM orders WHERE id % 2 = 0;
