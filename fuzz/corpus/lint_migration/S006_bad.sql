CREATE TABLE invoices (id bigint PRIMARY KEY, amount double precision, unit_price real);
