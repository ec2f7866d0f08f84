-- Federation (ActivityPub). Keep in step with ../sqlite/0007_federation.sql.

-- Remote accounts live in `accounts` beside local ones, so that follows,
-- statuses and favourites need no second table. A remote account has a
-- domain; its username is its full acct (`alice@remote.example`, which no
-- local name can be: local names have no '@'); it has no email and no
-- password (empty; login looks at local accounts only).
ALTER TABLE accounts ADD COLUMN domain TEXT;
ALTER TABLE accounts ADD COLUMN actor_uri TEXT;
ALTER TABLE accounts ADD COLUMN inbox_url TEXT;
ALTER TABLE accounts ADD COLUMN shared_inbox_url TEXT;
CREATE UNIQUE INDEX accounts_actor_uri_key ON accounts (actor_uri);
DROP INDEX accounts_email_key;
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email)) WHERE domain IS NULL;

-- A remote status's ActivityPub id: a redelivered Create finds it and
-- stores nothing twice; a Delete or a Like finds the status by it.
ALTER TABLE statuses ADD COLUMN uri TEXT;
CREATE UNIQUE INDEX statuses_uri_key ON statuses (uri);

-- Activities to deliver: one row per (activity, inbox), written before
-- the activity is considered sent, removed once the inbox took it (2xx)
-- or refused it for good (4xx), or after the last try. Retried with
-- growing waits for more than a day. `claimed_until` lets several
-- processes share the queue: a worker holds a row until then.
CREATE TABLE deliveries (
    id            BIGINT PRIMARY KEY,
    activity_id   TEXT   NOT NULL,
    sender_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    inbox         TEXT   NOT NULL,
    body          TEXT   NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_ms       BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE UNIQUE INDEX deliveries_activity_inbox_key ON deliveries (activity_id, inbox);
CREATE INDEX deliveries_next_idx ON deliveries (next_ms);
