-- Constraints added NOT VALID and never validated: existing rows are unchecked.
SELECT n.nspname::text, t.relname::text, c.conname::text, c.contype::text,
       pg_get_constraintdef(c.oid)
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT c.convalidated
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3
