ALTER TABLE orders ADD COLUMN seq bigint;
CREATE SEQUENCE orders_seq_seq AS bigint OWNED BY orders.seq;
ALTER TABLE orders ALTER COLUMN seq SET DEFAULT nextval('orders_seq_seq');
