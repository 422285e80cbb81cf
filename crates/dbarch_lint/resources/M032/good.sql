CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, placed_at timestamptz NOT NULL);
CREATE TABLE order_tags (order_id bigint, tag_id integer, PRIMARY KEY (order_id, tag_id));
