ALTER TABLE items ADD COLUMN embedding_v2 vector(4);
