CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE chunks (id bigint PRIMARY KEY, embedding vector(3));
CREATE INDEX chunks_ivf ON chunks USING ivfflat (embedding vector_l2_ops) WITH (lists = 100);
INSERT INTO chunks SELECT g, ARRAY[random(), random(), random()]::vector FROM generate_series(1, 4000) g;
ANALYZE chunks;
