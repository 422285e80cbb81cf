-- dbarch:ignore M002 twelve rows of currencies
CREATE INDEX currencies_code_idx ON currencies (code);
