ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0);
