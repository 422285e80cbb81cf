CREATE TABLE notes (id bigint PRIMARY KEY);
ALTER TABLE notes ADD COLUMN body text DEFALT '';
CREATE INDEX notes_body_idx ON notes (body);
