CREATE TABLE ai_logs (id bigint PRIMARY KEY, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, seen_at timestamp(3));
