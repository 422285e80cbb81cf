CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(1536), large halfvec(3072));
-- Above 4,000 dimensions, indexed through binary quantization (re-ranked exactly): not flagged.
CREATE TABLE big (id bigint PRIMARY KEY, embedding vector(8192));
CREATE INDEX big_embedding_idx ON big USING hnsw ((binary_quantize(embedding)::bit(8192)) bit_hamming_ops);
