-- Uploaded media. Keep in step with ../sqlite/0005_media.sql.

-- One row per upload (POST /api/v2/media), naming its two files in the
-- media store: the cleaned original and its preview. status_id is set when
-- a status takes it (media_ids), once; it has no foreign key because the
-- upload is claimed with the new status's id before that status is written
-- (see domain::media::attach), and the status's deletion removes the row.
CREATE TABLE media (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id      BIGINT,
    file_name      TEXT   NOT NULL,
    preview_name   TEXT   NOT NULL,
    content_type   TEXT   NOT NULL,
    width          BIGINT NOT NULL,
    height         BIGINT NOT NULL,
    preview_width  BIGINT NOT NULL,
    preview_height BIGINT NOT NULL,
    file_size      BIGINT NOT NULL,
    description    TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX media_status_idx ON media (status_id);

-- A status's attachments as its cache entries carry them (a JSON array of
-- perch_cache::MediaEntry), so that reading a status needs no join; they
-- never change once attached. media_urls keeps their URLs (the seed's
-- mediaUrls).
ALTER TABLE statuses ADD COLUMN media TEXT NOT NULL DEFAULT '[]';
