ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;
-- the next migration validates it:
-- ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;
