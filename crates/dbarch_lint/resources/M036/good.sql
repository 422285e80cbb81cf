BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
SAVEPOINT backfill;
UPDATE orders SET carrier = 'ups';
RELEASE SAVEPOINT backfill;
COMMIT;
BEGIN;
UPDATE orders SET carrier = 'dhl' WHERE carrier IS NULL;
COMMIT;
