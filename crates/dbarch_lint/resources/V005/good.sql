-- dbarch:no-transaction
SET maintenance_work_mem = '256MB';
SET max_parallel_maintenance_workers = 2;
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);
