-- Home feeds (timeline:home:{userId}): the durable side of fan-out on
-- write. Keep in step with ../postgres/0003_home_feeds.sql.

-- One fan-out still to do: a post to push onto its author's followers'
-- cached feeds, a deleted post to remove from them, or an account whose
-- followers' feeds must merge it at read time from now on. Written in the
-- transaction of the write that causes it, so a crash between the commit
-- and the fan-out loses nothing: any process's worker takes the job once
-- its claim has run out.
CREATE TABLE feed_jobs (
    kind          TEXT   NOT NULL,  -- 'post', 'delete' or 'merge'
    subject       BIGINT NOT NULL,  -- the status (post, delete) or account (merge)
    author        BIGINT NOT NULL,  -- whose followers' feeds the job edits
    created_ms    BIGINT NOT NULL,  -- when the cause was written (for the fan-out delay)
    claimed_until BIGINT NOT NULL DEFAULT 0, -- a worker holds the job until then (ms)
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX feed_jobs_claim_idx ON feed_jobs (claimed_until);

-- Accounts with so many followers that their posts are not fanned out but
-- merged into their followers' feeds at read time. An account enters when
-- its follower count reaches the fan-out limit and stays (no flapping).
CREATE TABLE feed_merged (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE
);
