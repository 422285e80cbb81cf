-- dbarch:ignore M029 every reader handles NULL since release 42
ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;
CREATE TABLE drafts (id bigint PRIMARY KEY, title text NOT NULL);
ALTER TABLE drafts ALTER COLUMN title DROP NOT NULL;
