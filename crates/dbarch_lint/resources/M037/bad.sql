BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
