CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE UNIQUE INDEX ON public.orders (reference);
