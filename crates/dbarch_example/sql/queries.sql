-- The example application's common queries (a workload for `explain` and `advise`).
-- $1.. are parameters.

-- name: user_by_email
SELECT id, name, preferences FROM users WHERE email = $1;

-- name: documents_of_user
SELECT id, title, category, created_at FROM documents WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20;

-- name: chunks_of_document
SELECT chunk_index, content FROM document_chunks WHERE document_id = $1 ORDER BY chunk_index;

-- name: similar_chunks
SELECT id, document_id, embedding <=> $1 AS distance FROM document_chunks ORDER BY embedding <=> $1 LIMIT 10;

-- name: hybrid_search
SELECT d.id, d.title, e.embedding <=> $1 AS distance
FROM documents d JOIN document_embeddings e ON d.id = e.document_id
WHERE d.category = $2 AND d.created_at > $3
ORDER BY e.embedding <=> $1 LIMIT 10;

-- name: user_cost_last_day
SELECT user_id, sum(cost), sum(tokens_used) FROM ai_logs WHERE created_at > now() - interval '1 day' GROUP BY user_id;

-- name: logs_of_user
SELECT id, model, tokens_used, created_at FROM ai_logs WHERE user_id = $1 ORDER BY created_at DESC LIMIT 50;
