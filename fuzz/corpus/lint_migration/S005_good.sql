CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL CHECK (length(name) <= 200), code char(2));
