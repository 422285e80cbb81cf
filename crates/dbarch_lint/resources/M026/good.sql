ALTER TABLE orders ADD COLUMN state text;
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders RENAME COLUMN note TO remark;
