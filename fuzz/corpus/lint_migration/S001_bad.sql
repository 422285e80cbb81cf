CREATE TABLE documents (id bigint PRIMARY KEY);
CREATE TABLE chunks (id bigint PRIMARY KEY, document_id bigint REFERENCES documents (id));
