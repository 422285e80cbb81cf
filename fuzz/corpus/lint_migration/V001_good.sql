CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(384));
CREATE INDEX ON chunks USING hnsw (embedding vector_cosine_ops);
