-- Timeline markers and notifications. Keep in step with ../sqlite/0004_markers_notifications.sql.

-- Where a user stopped reading a timeline ('home' or 'notifications'), as
-- apps save it (GET and POST /api/v1/markers). `version` counts the saves.
CREATE TABLE markers (
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline     TEXT   NOT NULL,
    last_read_id BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

-- What happened to an account: someone followed it ('follow'), liked one of
-- its statuses ('favourite') or named it in a status ('mention'). Written
-- in the transaction of the write that causes it and removed with the
-- cause (an unfollow, an unfavourite, the status's deletion), as Mastodon
-- does; dismissing removes one, clearing all of an account's. Its id is
-- the id of its cause (the follow, the favourite, the status), so the same
-- cause written twice adds one row, and the ids of one account's
-- notifications are distinct and in time order.
CREATE TABLE notifications (
    id              BIGINT NOT NULL,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind            TEXT   NOT NULL,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id       BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, id)
);
-- The notifications of a status, removed with it.
CREATE INDEX notifications_status_idx ON notifications (status_id);
