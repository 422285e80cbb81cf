CREATE TABLE import_staging (id bigint, payload jsonb);
TRUNCATE import_staging;
DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE status = 'cancelled' LIMIT 10000);
