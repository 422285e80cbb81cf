CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE bookings (id bigint PRIMARY KEY, room_id bigint NOT NULL, during tstzrange NOT NULL);
INSERT INTO bookings VALUES
    (1, 1, '[2025-01-01 10:00+00, 2025-01-01 11:00+00)'),
    (2, 1, '[2025-01-01 11:00+00, 2025-01-01 12:00+00)'),
    (3, 2, '[2025-01-01 10:00+00, 2025-01-01 12:00+00)');
