CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);
