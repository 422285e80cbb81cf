CREATE TABLE order_notes (id bigint PRIMARY KEY, body text);
ALTER TABLE order_notes RENAME TO notes;
ALTER TABLE orders RENAME TO purchases;
CREATE VIEW orders AS SELECT * FROM purchases;
