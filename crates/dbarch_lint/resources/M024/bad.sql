ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE (reference);
