-- pgvector ANN indexes (hnsw, ivfflat) with the operator class and column of their first key.
SELECT n.nspname::text, t.relname::text, i.relname::text, am.amname::text, opc.opcname::text,
       a.attname::text, pg_get_indexdef(i.oid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
JOIN pg_opclass opc ON opc.oid = x.indclass[0]
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] AND x.indkey[0] <> 0
WHERE am.amname IN ('hnsw', 'ivfflat')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3
