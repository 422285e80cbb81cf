CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(384));
