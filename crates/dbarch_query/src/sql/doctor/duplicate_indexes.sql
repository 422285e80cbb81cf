-- Pairs of valid indexes on the same table where `a` is redundant given `b`: an exact
-- duplicate (same method, keys, operator classes, collations, options, expressions and
-- predicate) or, for btree, a non-unique index whose keys are a prefix of `b`'s keys.
-- Of two exact duplicates only one is reported: the one that enforces less (constraint,
-- then uniqueness), then the later name.
WITH idx AS (
    SELECT x.indexrelid, x.indrelid, n.nspname, t.relname AS tbl, i.relname AS idx,
           am.amname, x.indisunique, x.indnkeyatts,
           EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) AS backs,
           string_to_array(x.indkey::text, ' ')::int2[] AS keys,
           string_to_array(x.indclass::text, ' ')::oid[] AS cls,
           string_to_array(x.indcollation::text, ' ')::oid[] AS coll,
           string_to_array(x.indoption::text, ' ')::int2[] AS opt,
           coalesce(pg_get_expr(x.indexprs, x.indrelid), '') AS exprs,
           coalesce(pg_get_expr(x.indpred, x.indrelid), '') AS pred,
           pg_relation_size(x.indexrelid)::int8 AS bytes,
           pg_get_indexdef(x.indexrelid) AS def
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    WHERE x.indisvalid
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
)
SELECT a.nspname::text, a.tbl::text, a.idx::text, b.idx::text, a.def, b.def, a.bytes,
       (a.keys = b.keys AND a.indnkeyatts = b.indnkeyatts AND a.cls = b.cls
        AND a.coll = b.coll AND a.opt = b.opt) AS exact
FROM idx a
JOIN idx b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
          AND a.amname = b.amname AND a.exprs = b.exprs AND a.pred = b.pred
WHERE NOT a.backs
  AND (
    (a.keys = b.keys AND a.indnkeyatts = b.indnkeyatts AND a.cls = b.cls AND a.coll = b.coll
     AND a.opt = b.opt
     AND (b.backs, b.indisunique, a.idx COLLATE "C") > (a.backs, a.indisunique, b.idx COLLATE "C"))
    OR
    (a.amname = 'btree' AND NOT a.indisunique AND a.exprs = ''
     AND cardinality(a.keys) = a.indnkeyatts AND a.indnkeyatts < b.indnkeyatts
     AND a.keys = b.keys[1:a.indnkeyatts] AND a.cls = b.cls[1:a.indnkeyatts]
     AND a.coll = b.coll[1:a.indnkeyatts] AND a.opt = b.opt[1:a.indnkeyatts])
  )
ORDER BY 1, 2, 3, 4
