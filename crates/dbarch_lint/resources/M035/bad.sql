CREATE TABLE webhooks (id bigint PRIMARY KEY, payload json NOT NULL);
