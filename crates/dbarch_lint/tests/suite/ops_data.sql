-- case: M013 DROP COLUMN on an existing table
-- expect: M013
ALTER TABLE orders DROP COLUMN legacy_code;

-- case: M013 DROP COLUMN IF EXISTS still deletes data
-- expect: M013
ALTER TABLE orders DROP COLUMN IF EXISTS legacy_code;

-- case: M013 M030 column added earlier in the same file (two ALTERs of one table: M030)
-- expect: M030
-- not: M013
ALTER TABLE orders ADD COLUMN tmp_flag boolean;
ALTER TABLE orders DROP COLUMN tmp_flag;

-- case: M013 table created earlier in the same file
-- expect: none
CREATE TABLE parcels (id bigint PRIMARY KEY, tracking text);
ALTER TABLE parcels DROP COLUMN tracking;

-- case: M013 after deprecation, with an ignore directive
-- expect: none
-- dbarch:ignore M013 unused since 2024.06, ignored_columns removed
ALTER TABLE orders DROP COLUMN legacy_code;

-- case: M013 two columns in one statement on a partitioned table
-- expect: M013
ALTER TABLE measurements DROP COLUMN unit, DROP COLUMN source;

-- case: M014 DROP TABLE of an existing table
-- expect: M014
DROP TABLE legacy_orders;

-- case: M014 DROP TABLE IF EXISTS ... CASCADE
-- expect: M014
DROP TABLE IF EXISTS archive.legacy_orders CASCADE;

-- case: M014 table created earlier in the same file
-- expect: none
CREATE TABLE import_batch (id bigint PRIMARY KEY);
DROP TABLE import_batch;

-- case: M014 dropping a view is not dropping a table
-- expect: none
-- not: M014
DROP VIEW IF EXISTS order_summary;

-- case: M014 M038 DROP TABLE without IF EXISTS in a no-transaction file, followed by more
-- expect: M014, M038
-- options: no-transaction
DROP TABLE legacy_orders;
DROP TABLE IF EXISTS legacy_order_lines;

-- case: M026 RENAME COLUMN on an existing table
-- expect: M026
ALTER TABLE orders RENAME COLUMN status TO state;

-- case: M026 RENAME COLUMN on a column added in the same file
-- expect: none
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders RENAME COLUMN note TO remark;

-- case: M026 RENAME COLUMN on a table created in the same file
-- expect: none
CREATE TABLE parcels (id bigint PRIMARY KEY, trackng text);
ALTER TABLE parcels RENAME COLUMN trackng TO tracking;

-- case: M026 renaming a constraint or an index is not a column rename
-- expect: none
-- not: M026, M027
ALTER TABLE orders RENAME CONSTRAINT orders_status_check TO orders_status_valid;
ALTER INDEX orders_status_idx RENAME TO orders_state_idx;

-- case: M026 RENAME COLUMN on a partitioned table with ONLY-less syntax
-- expect: M026
ALTER TABLE IF EXISTS measurements RENAME value TO reading;

-- case: M027 RENAME TO on an existing table
-- expect: M027
ALTER TABLE orders RENAME TO purchases;

-- case: M027 rename with a view left under the old name
-- expect: none
ALTER TABLE orders RENAME TO purchases;
CREATE VIEW orders AS SELECT * FROM purchases;

-- case: M027 rename of a table created in the same file
-- expect: none
CREATE TABLE order_notes (id bigint PRIMARY KEY);
ALTER TABLE order_notes RENAME TO notes;

-- case: M027 schema-qualified rename
-- expect: M027
ALTER TABLE billing.invoices RENAME TO bills;

-- case: M028 RENAME VALUE of an existing enum
-- expect: M028
ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';

-- case: M028 ADD VALUE is fine, in a transaction too (PostgreSQL 15+)
-- expect: none
-- options: server_version_num=150004
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'shipped';

-- case: M028 RENAME VALUE of an enum created in the same file
-- expect: none
CREATE TYPE priority AS ENUM ('low', 'hight');
ALTER TYPE priority RENAME VALUE 'hight' TO 'high';

-- case: M028 DROP TYPE without a catalog: not known to be an enum
-- expect: none
DROP TYPE IF EXISTS legacy_status;

-- case: M028 dropping an enum created in the same file
-- expect: none
CREATE TYPE tmp_state AS ENUM ('a', 'b');
DROP TYPE tmp_state;

-- case: M030 two ALTER TABLE on one table in the runner's transaction
-- expect: M030
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
ALTER TABLE orders ADD COLUMN carrier text;

-- case: M030 three ALTER TABLE: reported once
-- expect: M030
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
ALTER TABLE orders ADD COLUMN carrier text;
ALTER TABLE orders ADD COLUMN tracking text;

-- case: M030 one ALTER TABLE with several actions
-- expect: none
ALTER TABLE orders ADD COLUMN shipped_at timestamptz, ADD COLUMN carrier text;

-- case: M030 autocommit: each ALTER commits on its own
-- expect: none
-- options: no-transaction
ALTER TABLE orders ADD COLUMN IF NOT EXISTS shipped_at timestamptz;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS carrier text;

-- case: M030 two explicit transactions
-- expect: none
BEGIN;
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
COMMIT;
BEGIN;
ALTER TABLE orders ADD COLUMN carrier text;
COMMIT;

-- case: M030 table created in the same file
-- expect: none
CREATE TABLE parcels (id bigint PRIMARY KEY);
ALTER TABLE parcels ADD COLUMN tracking text;
ALTER TABLE parcels ADD COLUMN carrier text;

-- case: M030 different tables
-- expect: none
ALTER TABLE orders ADD COLUMN carrier text;
ALTER TABLE customers ADD COLUMN nickname text;

-- case: M030 ATTACH PARTITION cannot be combined
-- expect: none
ALTER TABLE measurements ADD COLUMN unit text;
ALTER TABLE measurements ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

-- case: M027 ignore directive with a reason
-- expect: none
-- dbarch:ignore M027 no application reads this table yet
ALTER TABLE staging_orders RENAME TO incoming_orders;
