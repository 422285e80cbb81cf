CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE, name text);
CREATE INDEX idx_users_email ON users (email);
CREATE INDEX users_name_a ON users (name);
CREATE INDEX users_name_b ON users (name);
