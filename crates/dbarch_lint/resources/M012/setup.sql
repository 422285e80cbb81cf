CREATE TABLE audit_log (at timestamptz NOT NULL DEFAULT now(), message text);
CREATE UNLOGGED TABLE events (at timestamptz NOT NULL DEFAULT now(), kind text);
INSERT INTO audit_log (message) SELECT 'm' || g FROM generate_series(1, 20) g;
INSERT INTO events (kind) SELECT 'k' || g FROM generate_series(1, 20) g;
