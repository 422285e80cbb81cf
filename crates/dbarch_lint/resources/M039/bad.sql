CREATE INDEX orders_customer_id_created_at_status_shipping_country_partial_idx
    ON orders (customer_id, created_at, status, shipping_country);
ALTER TABLE orders ADD COLUMN "preferred_delivery_window_start_time_in_the_customers_local_timezone" time;
