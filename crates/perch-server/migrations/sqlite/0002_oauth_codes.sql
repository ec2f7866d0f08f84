-- Authorization codes of the OAuth authorization-code flow. Keep in step
-- with ../postgres/0002_oauth_codes.sql.
CREATE TABLE oauth_codes (
    code_hash      TEXT PRIMARY KEY,
    app_id         BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT,
    expires_at     TEXT NOT NULL
);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);
