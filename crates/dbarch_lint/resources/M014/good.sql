CREATE TABLE import_batch (id bigint PRIMARY KEY, payload text);
DROP TABLE import_batch;
-- dbarch:ignore M014 unused since release 2024.06, dumped before the drop
DROP TABLE IF EXISTS legacy_orders;
