CREATE TABLE customers (id bigint PRIMARY KEY, name text);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    quantity integer,
    reference text,
    shipped_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');
INSERT INTO orders (id, customer_id, quantity, reference) VALUES (1, 1, 2, 'A-1'), (2, 2, 1, 'A-2'), (3, 1, 5, 'A-3');
