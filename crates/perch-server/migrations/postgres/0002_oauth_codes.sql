-- Authorization codes of the OAuth authorization-code flow (GET/POST
-- /oauth/authorize, then POST /oauth/token). A code is kept only as its
-- SHA-256 (hex): the table never holds a usable code. Single use: taking
-- one deletes it.
CREATE TABLE oauth_codes (
    code_hash      TEXT PRIMARY KEY,
    app_id         BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);
