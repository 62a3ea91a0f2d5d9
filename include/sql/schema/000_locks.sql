-- Named locks: a transaction that updates a row here holds it (SQLite: the database write lock).
CREATE TABLE IF NOT EXISTS state_locks (
    name TEXT PRIMARY KEY,
    held_count INTEGER NOT NULL DEFAULT 0
);
