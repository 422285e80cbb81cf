-- a new table: nobody is waiting on it
CREATE TABLE reservations (id bigint PRIMARY KEY, room_id bigint NOT NULL, during tstzrange NOT NULL);
ALTER TABLE reservations ADD CONSTRAINT reservations_no_overlap
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
