-- dbarch example: the storage of an AI/RAG application, written the way the seed document
-- writes it. It carries that document's design mistakes on purpose, so that `dbarch review`
-- and `dbarch lint` have something true to say:
--   * SERIAL (int4) keys on tables that grow without bound;
--   * foreign keys that are nullable and have no covering index;
--   * TIMESTAMP without time zone;
--   * arbitrary VARCHAR(n) limits;
--   * an index that duplicates a UNIQUE constraint's index (users.email);
--   * updated_at with no trigger to maintain it;
--   * an IVFFlat index created on an empty table (its lists are trained on no data);
--   * metadata JSONB filtered without a GIN index, a category filter without an index;
--   * chunks without NOT NULL or a uniqueness rule on (document_id, chunk_index).

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE users (
  id SERIAL PRIMARY KEY,
  email VARCHAR(255) UNIQUE NOT NULL,
  name VARCHAR(100) NOT NULL,
  preferences JSONB DEFAULT '{}',
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE users IS 'Application users; preferences drive retrieval settings.';

CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_preferences ON users USING GIN (preferences);

CREATE TABLE documents (
  id SERIAL PRIMARY KEY,
  user_id INTEGER REFERENCES users(id),
  title VARCHAR(255) NOT NULL,
  category VARCHAR(50),
  content TEXT,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE documents IS 'Source documents uploaded for retrieval.';

CREATE TABLE document_chunks (
  id SERIAL PRIMARY KEY,
  document_id INTEGER REFERENCES documents(id),
  chunk_index INTEGER,
  content TEXT,
  embedding VECTOR(384),
  token_count INTEGER,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE document_chunks IS 'Chunks of documents with their all-MiniLM-L6-v2 embeddings (384 dims).';

CREATE INDEX ON document_chunks
USING ivfflat (embedding vector_cosine_ops)
WITH (lists = 100);

CREATE TABLE document_embeddings (
  id SERIAL PRIMARY KEY,
  document_id INTEGER REFERENCES documents(id),
  embedding VECTOR(384),
  metadata JSONB,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE document_embeddings IS 'One embedding per whole document (title + summary).';

CREATE INDEX ON document_embeddings
USING hnsw (embedding vector_cosine_ops)
WITH (m = 16, ef_construction = 64);

CREATE TABLE ai_logs (
  id SERIAL PRIMARY KEY,
  user_id INTEGER REFERENCES users(id),
  request TEXT NOT NULL,
  response TEXT,
  model VARCHAR(100),
  tokens_used INTEGER,
  cost DECIMAL(10,4),
  latency_ms INTEGER,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE ai_logs IS 'Every LLM request and response, for cost and quality tracking.';

CREATE INDEX idx_ai_logs_user_id ON ai_logs(user_id);
CREATE INDEX idx_ai_logs_created_at ON ai_logs(created_at);
