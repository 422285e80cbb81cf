-- dbarch:no-transaction
VACUUM FULL orders;
