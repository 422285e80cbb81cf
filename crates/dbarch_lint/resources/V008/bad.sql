-- dbarch-test: maintenance_work_mem=1048576
-- dbarch:no-transaction
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);
