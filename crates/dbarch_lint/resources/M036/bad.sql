BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
BEGIN;
UPDATE orders SET carrier = 'ups';
COMMIT;
