CREATE TABLE orders (id serial PRIMARY KEY, placed_at timestamptz NOT NULL);
CREATE TABLE shops (id integer, name text, PRIMARY KEY (id));
