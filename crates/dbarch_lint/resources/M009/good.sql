CREATE TABLE order_archive (id bigint PRIMARY KEY, customer_id bigint);
CLUSTER order_archive USING order_archive_pkey;
