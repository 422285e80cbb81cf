ALTER TABLE orders ADD COLUMN double_quantity integer GENERATED ALWAYS AS (quantity * 2) VIRTUAL;
