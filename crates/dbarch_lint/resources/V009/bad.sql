CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(3));
CREATE INDEX chunks_embedding_idx ON chunks USING hnsw (embedding vector_l2_ops);
-- dbarch-test: workload=SELECT id FROM chunks ORDER BY embedding <=> '[1,2,3]' LIMIT 10
