CREATE TABLE ai_logs (id bigint PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), day date);
