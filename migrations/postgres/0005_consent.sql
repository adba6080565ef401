-- Consent that cannot be side-stepped (issue 14).

-- A tombstone names nobody: the author chose to delete the note.
UPDATE annotations SET author_id = NULL, anonymous = TRUE WHERE deleted = TRUE;

-- Whether others may see that a note was written before its author read theirs. Only the
-- account's row (book_id '') carries it.
ALTER TABLE preferences ADD COLUMN show_written_blind BOOLEAN NOT NULL DEFAULT FALSE;

-- Changes to a group's rules or openness, shown to each member until they dismiss them.
CREATE TABLE group_notices (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('rules', 'opened', 'closed')),
    rules TEXT,                     -- the new rules, for kind 'rules'
    created_at BIGINT NOT NULL
);
CREATE INDEX group_notices_group ON group_notices (group_id, created_at);

CREATE TABLE notice_dismissals (
    notice_id TEXT NOT NULL REFERENCES group_notices (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (notice_id, user_id)
);
CREATE INDEX notice_dismissals_user ON notice_dismissals (user_id);
