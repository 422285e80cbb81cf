-- case: foreign key added to an existing table
-- expect: M015
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);

-- case: foreign key added NOT VALID, validated in the next migration
-- expect: none
-- not: M015, M017
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

-- case: unnamed foreign key in ADD COLUMN ... REFERENCES
-- expect: M015
ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);

-- case: foreign key on a table created earlier in the file (referenced table exists)
-- expect: none
-- not: M015
CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint);
ALTER TABLE refunds ADD CONSTRAINT refunds_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id);

-- case: foreign key on an existing table referencing a new table
-- expect: M015
CREATE TABLE regions (id bigint PRIMARY KEY);
ALTER TABLE stores ADD CONSTRAINT stores_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions (id);

-- case: foreign key with IF EXISTS on a partitioned parent
-- expect: M015
ALTER TABLE IF EXISTS measurements ADD FOREIGN KEY (sensor_id) REFERENCES sensors (id);

-- case: foreign key NOT ENFORCED (PostgreSQL 18) checks nothing
-- expect: none
-- not: M015
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT ENFORCED;

-- case: foreign key finding silenced by an ignore directive
-- expect: none
-- dbarch:ignore M015 orders has 40 rows
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);

-- case: check constraint on an existing table
-- expect: M016
ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0);

-- case: unnamed check constraint, schema-qualified table
-- expect: M016
ALTER TABLE sales.orders ADD CHECK (total >= 0);

-- case: check constraint NOT VALID
-- expect: none
-- not: M016
ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;

-- case: check constraint on a table created in the file
-- expect: none
-- not: M016
CREATE TABLE coupons (id bigint PRIMARY KEY, pct int);
ALTER TABLE coupons ADD CONSTRAINT coupons_pct_check CHECK (pct BETWEEN 0 AND 100);

-- case: column-level CHECK in CREATE TABLE is not an ALTER
-- expect: none
-- not: M016
CREATE TABLE discounts (id bigint PRIMARY KEY, pct int CHECK (pct > 0));

-- case: NOT VALID then VALIDATE in the runner's transaction
-- expect: M017
ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;

-- case: NOT VALID foreign key and VALIDATE in one explicit transaction block
-- expect: M017
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
COMMIT;

-- case: NOT VALID and VALIDATE separated by COMMIT
-- expect: none
-- not: M017
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;
COMMIT;
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;

-- case: no-transaction file runs each statement on its own
-- expect: none
-- options: no-transaction
-- not: M017
ALTER TABLE orders ADD CONSTRAINT orders_quantity_check CHECK (quantity > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;

-- case: VALIDATE of a constraint added by an earlier migration
-- expect: none
-- not: M017
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_check;

-- case: ADD NOT VALID and VALIDATE in one ALTER TABLE statement
-- expect: M017
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID, VALIDATE CONSTRAINT orders_total_check;

-- case: unique constraint built inside ALTER TABLE
-- expect: M024
ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE (reference);

-- case: primary key added to an existing table
-- expect: M024
ALTER TABLE events ADD PRIMARY KEY (id);

-- case: unique constraint attached from a concurrently built index
-- expect: none
-- not: M024
ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE USING INDEX orders_reference_key;

-- case: unique constraint on a table created in the file
-- expect: none
-- not: M024
CREATE TABLE vouchers (id bigint PRIMARY KEY, code text);
ALTER TABLE vouchers ADD CONSTRAINT vouchers_code_key UNIQUE (code);

-- case: unique column added to an existing table
-- expect: M024
ALTER TABLE users ADD COLUMN handle text UNIQUE;

-- case: exclusion constraint on an existing table
-- expect: M025
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);

-- case: exclusion constraint on a table created in the file
-- expect: none
-- not: M025
CREATE TABLE reservations (room_id bigint, during tstzrange);
ALTER TABLE reservations ADD CONSTRAINT reservations_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);

-- case: exclusion constraint after setting lock_timeout is still flagged
-- expect: M025
SET lock_timeout = '5s';
ALTER TABLE bookings ADD EXCLUDE USING gist (during WITH &&);

-- case: exclusion constraint silenced in a maintenance-window migration
-- expect: none
-- dbarch:ignore M025 run in the Sunday maintenance window
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&);

-- case: exclusion constraint on only the partitioned parent is still flagged
-- expect: M025
ALTER TABLE ONLY room_bookings ADD CONSTRAINT room_bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);

-- case: exclusion index built by CREATE INDEX is not an exclusion constraint
-- expect: none
-- not: M025
-- options: no-transaction
CREATE INDEX CONCURRENTLY bookings_during_idx ON bookings USING gist (during);
