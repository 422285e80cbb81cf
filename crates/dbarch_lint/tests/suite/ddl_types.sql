-- case: char(n) column in CREATE TABLE
-- expect: M031
CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL);

-- case: bare character column added
-- expect: M031
ALTER TABLE orders ADD COLUMN flag character;

-- case: quoted "char" system type is not char(n)
-- expect: none
-- not: M031
CREATE TABLE flags (id bigint PRIMARY KEY, kind "char");

-- case: column retyped to char(n)
-- expect: M031, M023
ALTER TABLE orders ALTER COLUMN currency TYPE char(3);

-- case: varchar and text are fine
-- expect: none
-- not: M031
CREATE TABLE labels (id bigint PRIMARY KEY, code varchar(3), name text);

-- case: serial primary key in CREATE TABLE
-- expect: M032
CREATE TABLE orders (id serial PRIMARY KEY, placed_at timestamptz NOT NULL);

-- case: integer primary key as a table constraint
-- expect: M032
CREATE TABLE IF NOT EXISTS shops (id integer, name text, PRIMARY KEY (id));

-- case: integer identity column
-- expect: M032
CREATE TABLE tickets (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text);

-- case: bigint identity key
-- expect: none
-- not: M032
CREATE TABLE tickets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text);

-- case: composite primary key of integer references is not a counter
-- expect: none
-- not: M032
CREATE TABLE order_tags (order_id int, tag_id int, PRIMARY KEY (order_id, tag_id));

-- case: smallserial column
-- expect: M032
CREATE TABLE priorities (id smallserial, label text);

-- case: timestamp column in CREATE TABLE
-- expect: M033
CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamp NOT NULL);

-- case: timestamp without time zone with precision added
-- expect: M033
ALTER TABLE orders ADD COLUMN shipped_at timestamp(3) without time zone;

-- case: timestamptz is fine
-- expect: none
-- not: M033
CREATE TABLE visits (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());

-- case: timestamp array column
-- expect: M033
CREATE TABLE schedules (id bigint PRIMARY KEY, slots timestamp[]);

-- case: timestamp column silenced
-- expect: none
-- dbarch:ignore M033 mirrors a vendor schema with local times
CREATE TABLE vendor_rows (id bigint PRIMARY KEY, local_time timestamp);

-- case: money column
-- expect: M034
CREATE TABLE invoices (id bigint PRIMARY KEY, total money NOT NULL);

-- case: money column added to an existing table
-- expect: M034
ALTER TABLE orders ADD COLUMN tip money;

-- case: numeric amount with currency
-- expect: none
-- not: M034
CREATE TABLE payments (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, currency text NOT NULL);

-- case: a user type named money in another schema
-- expect: none
-- not: M034
CREATE TABLE ledgers (id bigint PRIMARY KEY, balance finance.money);

-- case: json column
-- expect: M035
CREATE TABLE webhooks (id bigint PRIMARY KEY, payload json NOT NULL);

-- case: json column added
-- expect: M035
ALTER TABLE orders ADD COLUMN IF NOT EXISTS raw json;

-- case: jsonb column
-- expect: none
-- not: M035
CREATE TABLE settings (id bigint PRIMARY KEY, value jsonb NOT NULL DEFAULT '{}');

-- case: column retyped from jsonb to json
-- expect: M035, M023
ALTER TABLE orders ALTER COLUMN meta TYPE json;

-- case: timestamp cast in a query is not a column
-- expect: none
-- not: M033
SELECT now()::timestamp;

-- case: money in a view query is not a column
-- expect: none
-- not: M034
CREATE VIEW order_totals AS SELECT id, total::money AS shown FROM orders;

-- case: json column in an existing table retyped to jsonb
-- expect: M023
-- not: M035
ALTER TABLE orders ALTER COLUMN meta TYPE jsonb USING meta::jsonb;
