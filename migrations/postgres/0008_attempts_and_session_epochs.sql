-- Logins and registrations counted per scope (an account and address pair, or an address),
-- in the database so that every server on it shares the counts.
CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX attempts_scope_at ON attempts (scope, at);
CREATE INDEX attempts_at ON attempts (at);

-- A session is the account's only while it carries the account's current epoch: changing the
-- password moves the epoch on, which ends every other session.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
