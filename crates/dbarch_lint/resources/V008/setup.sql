CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(64));
INSERT INTO items
SELECT i, (SELECT array_agg(random())::real[] FROM generate_series(1, 64) WHERE i > 0)::vector
FROM generate_series(1, 3000) AS i;
