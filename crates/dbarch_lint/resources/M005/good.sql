-- dbarch:no-transaction
REINDEX INDEX CONCURRENTLY orders_status_idx;
