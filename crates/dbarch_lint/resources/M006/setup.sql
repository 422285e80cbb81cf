CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint, status text);
INSERT INTO orders (customer_id, status) SELECT g % 5, 'new' FROM generate_series(1, 20) g;
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id;
