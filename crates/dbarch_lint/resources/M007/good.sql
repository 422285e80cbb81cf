-- dbarch:no-transaction
ALTER TABLE measurements DETACH PARTITION measurements_2024 CONCURRENTLY;
