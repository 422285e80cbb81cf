-- text to unbounded varchar is binary-coercible: no rewrite
ALTER TABLE orders ALTER COLUMN reference TYPE varchar;
ALTER TABLE orders ADD COLUMN quantity_new bigint;
