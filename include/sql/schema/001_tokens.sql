-- OAuth2 token pairs, one row per token chain (the integration and the seed it descends from, see
-- twinfield.state.tokens). Rotated under the lock "oauth:<name>"; tokens are Fernet-encrypted ("fernet:...")
-- once Airflow has a key. seed_fingerprint: SHA-256 of the connection's refresh_token that this chain descends
-- from; when the connection's token changes (the user re-authorised), the chain restarts from the connection.
CREATE TABLE IF NOT EXISTS oauth_tokens (
    name TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    seed_fingerprint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
