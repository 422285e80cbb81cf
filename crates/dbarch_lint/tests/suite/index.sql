-- case: plain index on an existing table
-- expect: M002
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

-- case: index on a table created earlier in the same file
-- expect: none
-- not: M002
CREATE TABLE items (id bigint PRIMARY KEY, sku text);
CREATE INDEX items_sku_idx ON items (sku);

-- case: concurrent index in a non-transactional file
-- expect: none
-- options: no-transaction
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);

-- case: index on only the partitioned parent
-- expect: none
CREATE INDEX measurements_at_idx ON ONLY measurements (at);

-- case: ignore directive covers the next statement
-- expect: none
-- dbarch:ignore M002 lookup table of 12 rows
CREATE INDEX currencies_code_idx ON currencies (code);

-- case: ignore directive trailing its statement
-- expect: none
CREATE INDEX currencies_name_idx ON currencies (name); -- dbarch:ignore M002 tiny table

-- case: stale ignore directive
-- expect: M042
-- dbarch:ignore M002 no longer needed
SELECT 1;

-- case: syntax error is a finding, and the rest is still linted
-- expect: M001, M002
ALTER TABLE notes ADD COLUMN body text DEFALT '';
CREATE INDEX notes_body_idx ON notes (body);

-- case: psql meta-command
-- expect: M001
\i other.sql
