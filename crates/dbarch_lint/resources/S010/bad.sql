CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
-- dbarch-test: workload=SELECT id FROM events WHERE payload @> '{"type": "signup"}'
