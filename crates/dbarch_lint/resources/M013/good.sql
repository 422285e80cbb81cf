ALTER TABLE orders ADD COLUMN tmp_flag boolean;
ALTER TABLE orders DROP COLUMN tmp_flag;
-- dbarch:ignore M013 unused since release 2024.06 (ignored_columns removed)
ALTER TABLE orders DROP COLUMN IF EXISTS legacy_code;
