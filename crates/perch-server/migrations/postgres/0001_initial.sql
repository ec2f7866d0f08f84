-- Perch schema, PostgreSQL flavour. Keep in step with ../sqlite/0001_initial.sql.
-- Ids are 64-bit snowflakes (48-bit millisecond time, 16-bit sequence).

CREATE TABLE accounts (
    id              BIGINT PRIMARY KEY,
    username        TEXT NOT NULL,
    email           TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    avatar_url      TEXT,
    header_url      TEXT,
    followers_count BIGINT NOT NULL DEFAULT 0,
    following_count BIGINT NOT NULL DEFAULT 0,
    statuses_count  BIGINT NOT NULL DEFAULT 0,
    last_status_at  TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username));
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

CREATE TABLE statuses (
    id               BIGINT PRIMARY KEY,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    content          TEXT NOT NULL,
    sensitive        BOOLEAN NOT NULL DEFAULT FALSE,
    spoiler_text     TEXT NOT NULL DEFAULT '',
    media_urls       TEXT NOT NULL DEFAULT '[]',
    visibility       TEXT NOT NULL DEFAULT 'public',
    language         TEXT,
    favourites_count BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX statuses_account_idx ON statuses (account_id, id DESC);

CREATE TABLE follows (
    id          BIGINT PRIMARY KEY,
    follower_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    CHECK (follower_id <> followee_id)
);
CREATE UNIQUE INDEX follows_pair_key ON follows (follower_id, followee_id);
CREATE INDEX follows_followee_idx ON follows (followee_id, id DESC);
CREATE INDEX follows_follower_idx ON follows (follower_id, id DESC);

CREATE TABLE favourites (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX favourites_pair_key ON favourites (account_id, status_id);
CREATE INDEX favourites_account_idx ON favourites (account_id, id DESC);
CREATE INDEX favourites_status_idx ON favourites (status_id);

CREATE TABLE oauth_apps (
    id            BIGINT PRIMARY KEY,
    name          TEXT NOT NULL,
    website       TEXT,
    redirect_uri  TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oauth_apps_client_id_key ON oauth_apps (client_id);

CREATE TABLE revoked_tokens (
    token_id   TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
