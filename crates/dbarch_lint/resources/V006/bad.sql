CREATE TABLE passages (id bigint PRIMARY KEY, embedding vector(3));
CREATE INDEX passages_embedding_idx ON passages USING ivfflat (embedding vector_l2_ops) WITH (lists = 1);
