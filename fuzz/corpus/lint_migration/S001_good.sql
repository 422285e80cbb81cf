CREATE TABLE documents (id bigint PRIMARY KEY);
CREATE TABLE chunks (id bigint PRIMARY KEY, document_id bigint REFERENCES documents (id));
CREATE INDEX chunks_document_id_idx ON chunks (document_id);
-- A composite key covered by the primary key's leading columns, in another order.
CREATE TABLE pairs (a bigint, b bigint, PRIMARY KEY (b, a));
CREATE TABLE pair_notes (a bigint, b bigint, FOREIGN KEY (a, b) REFERENCES pairs (a, b) DEFERRABLE, PRIMARY KEY (b, a));
