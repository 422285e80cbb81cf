CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3));
CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops)
    WITH (m = 32, ef_construction = 128);
