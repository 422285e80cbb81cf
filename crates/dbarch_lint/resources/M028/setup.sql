CREATE TYPE order_status AS ENUM ('new', 'canceled', 'shipped');
CREATE TYPE legacy_status AS ENUM ('open', 'closed');
