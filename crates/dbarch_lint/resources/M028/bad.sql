ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';
DROP TYPE legacy_status;
