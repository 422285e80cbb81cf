CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE, name text);
CREATE INDEX users_lower_email ON users (lower(email));
CREATE INDEX users_name ON users (name);
CREATE INDEX users_name_desc ON users (name DESC);
CREATE INDEX users_name_partial ON users (name) WHERE name IS NOT NULL;
