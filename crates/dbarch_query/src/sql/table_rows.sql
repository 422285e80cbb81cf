-- Row estimates of the named relations, resolved through the session's search_path.
SELECT n, c.reltuples::float8
FROM unnest($1::text[]) n
JOIN pg_class c ON c.oid = to_regclass(quote_ident(n))
