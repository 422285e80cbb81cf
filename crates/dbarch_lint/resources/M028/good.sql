ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'cancelled';
CREATE TYPE priority AS ENUM ('low', 'hight');
ALTER TYPE priority RENAME VALUE 'hight' TO 'high';
