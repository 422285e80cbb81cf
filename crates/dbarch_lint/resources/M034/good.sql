CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric(12,2) NOT NULL, currency text NOT NULL DEFAULT 'EUR');
