-- Twinfield OAuth2 access tokens, one per connection id (name), so that every task uses the current one until it
-- expires instead of asking for a new one (twinfield.state.tokens.AccessTokens). The token is Fernet-encrypted
-- ("fernet:...") once Airflow has a key; cluster: the URL Twinfield's token validation named for it;
-- seed_fingerprint: SHA-256 of the credentials it was got with (a changed connection gets a new token).
CREATE TABLE IF NOT EXISTS twinfield_access_tokens (
    name TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    cluster TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    seed_fingerprint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
