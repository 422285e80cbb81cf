CREATE INDEX orders_customer_created_status_country_idx
    ON orders (customer_id, created_at, status, shipping_country);
ALTER TABLE orders ADD COLUMN preferred_delivery_start_local time;
SELECT orders_customer_id_created_at_status_shipping_country_partial_idx_x FROM orders;
