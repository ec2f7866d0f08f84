-- Keep in step with ../postgres/0006_revoked_at_index.sql.
-- Each process's mirror of revoked tokens loads only the rows revoked
-- since its last refresh (domain::revocations::refresh).
CREATE INDEX revoked_tokens_revoked_at_idx ON revoked_tokens (revoked_at);
