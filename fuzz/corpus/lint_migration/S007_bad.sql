CREATE TABLE users (id bigint PRIMARY KEY, updated_at timestamptz DEFAULT now());
