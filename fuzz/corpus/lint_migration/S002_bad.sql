CREATE TABLE events (user_id bigint, payload jsonb);
