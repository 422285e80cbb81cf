CREATE TABLE passages (id bigint PRIMARY KEY, embedding vector(3));
INSERT INTO passages VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0,0,1]');
CREATE INDEX passages_embedding_idx ON passages USING ivfflat (embedding vector_l2_ops) WITH (lists = 1);
