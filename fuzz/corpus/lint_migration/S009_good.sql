CREATE TABLE ai_logs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
-- A natural integer key is not generated: it does not grow with the table.
CREATE TABLE countries (iso_number integer PRIMARY KEY);
