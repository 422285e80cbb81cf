-- dbarch:no-transaction
VACUUM (ANALYZE) orders;
VACUUM (FULL false) orders;
