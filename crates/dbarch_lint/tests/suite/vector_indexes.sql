-- case: hnsw m above pgvector's limit
-- expect: V004, V005
CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 200);

-- case: hnsw ef_construction below 2 * m
-- expect: V004
-- options: no-transaction
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 64, ef_construction = 100);

-- case: hnsw m raised above half the default ef_construction
-- expect: V004
CREATE TABLE docs (id bigint PRIMARY KEY, embedding vector(3));
CREATE INDEX docs_embedding_idx ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 48);

-- case: hnsw parameters in range
-- expect: none
-- not: V004
-- options: no-transaction
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 32, ef_construction = 128);

-- case: ivfflat lists above the maximum
-- expect: V004
-- options: no-transaction
CREATE INDEX CONCURRENTLY items_embedding_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 50000);

-- case: hnsw ef_construction given as a quoted string
-- expect: V004
-- options: no-transaction
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_ip_ops) WITH (ef_construction = '2000');

-- case: hnsw index built without CONCURRENTLY
-- expect: V005
CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);

-- case: ivfflat built without CONCURRENTLY is V005, not M002
-- expect: V005
-- not: M002
CREATE INDEX IF NOT EXISTS items_embedding_ivf ON public.items USING ivfflat (embedding vector_l2_ops) WITH (lists = 1000);

-- case: hnsw built concurrently
-- expect: none
-- not: V005
-- options: no-transaction
SET maintenance_work_mem = '4GB';
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);

-- case: hnsw on a table created in the file
-- expect: none
-- not: V005
CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(384));
CREATE INDEX chunks_embedding_idx ON chunks USING hnsw (embedding vector_cosine_ops);

-- case: hnsw on only the partitioned parent builds nothing
-- expect: none
-- not: V005
CREATE INDEX chunks_embedding_idx ON ONLY chunks_partitioned USING hnsw (embedding vector_cosine_ops);

-- case: ivfflat on a table created in the same file
-- expect: V006
CREATE TABLE passages (id bigint PRIMARY KEY, embedding vector(384));
CREATE INDEX passages_embedding_idx ON passages USING ivfflat (embedding vector_l2_ops) WITH (lists = 100);

-- case: ivfflat after loading the new table
-- expect: none
-- not: V006
CREATE TABLE passages (id bigint PRIMARY KEY, embedding vector(384));
INSERT INTO passages SELECT id, embedding FROM staging_passages;
CREATE INDEX passages_embedding_idx ON passages USING ivfflat (embedding vector_l2_ops) WITH (lists = 100);

-- case: ivfflat after COPY into the new table
-- expect: none
-- not: V006
CREATE TABLE passages (id bigint PRIMARY KEY, embedding vector(384));
COPY passages FROM '/data/passages.csv' WITH (FORMAT csv);
CREATE INDEX passages_embedding_idx ON passages USING ivfflat (embedding vector_l2_ops) WITH (lists = 100);

-- case: hnsw on a new table needs no training data
-- expect: none
-- not: V006
CREATE TABLE passages (id bigint PRIMARY KEY, embedding vector(384));
CREATE INDEX passages_embedding_idx ON passages USING hnsw (embedding vector_l2_ops);

-- case: ivfflat on an existing table without a catalog
-- expect: none
-- not: V006
-- options: no-transaction
CREATE INDEX CONCURRENTLY items_embedding_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 100);

-- case: embedding dimensions changed after the file declared them
-- expect: V007
-- options: no-transaction
ALTER TABLE items ADD COLUMN embedding_small vector(1536);
ALTER TABLE items ALTER COLUMN embedding_small TYPE vector(768) USING NULL;

-- case: vector to halfvec with the same dimensions
-- expect: V007
-- options: no-transaction
ALTER TABLE items ADD COLUMN embedding_small vector(1536);
ALTER TABLE items ALTER COLUMN embedding_small TYPE halfvec(1536);

-- case: vector retype with unknown old type stays silent (and is not M023)
-- expect: none
-- not: V007, M023
ALTER TABLE items ALTER COLUMN embedding TYPE vector(768);

-- case: dimension change on a table created in the file
-- expect: none
-- not: V007
CREATE TABLE vectors (id bigint PRIMARY KEY, v vector(3));
ALTER TABLE vectors ALTER COLUMN v TYPE vector(4) USING NULL;

-- case: hnsw build memory needs catalog statistics
-- expect: none
-- not: V008
-- options: no-transaction, maintenance_work_mem=1048576
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops);

-- case: hnsw build memory with a low setting but no catalog stays silent
-- expect: none
-- not: V008
-- options: no-transaction, maintenance_work_mem=65536
SET maintenance_work_mem = '64kB';
CREATE INDEX CONCURRENTLY items_embedding_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 48, ef_construction = 200);

-- case: hnsw on a table created in the file is never V008
-- expect: none
-- not: V008
-- options: maintenance_work_mem=1024
CREATE TABLE embeddings (id bigint PRIMARY KEY, v vector(1536));
CREATE INDEX embeddings_v_idx ON embeddings USING hnsw (v vector_cosine_ops);

-- case: partial hnsw index without stats
-- expect: none
-- not: V008
-- options: no-transaction, maintenance_work_mem=1048576
CREATE INDEX CONCURRENTLY items_recent_idx ON items USING hnsw (embedding vector_cosine_ops) WHERE created_at > '2025-01-01';

-- case: vector column retyped to text leaves pgvector (old type declared in the file)
-- expect: V007
-- options: no-transaction
ALTER TABLE items ADD COLUMN embedding_tmp vector(3);
ALTER TABLE items ALTER COLUMN embedding_tmp TYPE text;
