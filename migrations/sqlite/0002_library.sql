-- Books, study groups and marginalia.

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    rules TEXT NOT NULL DEFAULT '',
    open BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'facilitator', 'member')),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, group_id);

CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    expires_at BIGINT,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX invites_group ON invites (group_id);

CREATE TABLE books (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    authors TEXT NOT NULL,          -- JSON array of names
    language TEXT,
    identifiers TEXT NOT NULL,      -- JSON array
    publisher TEXT,
    description TEXT,
    published TEXT,
    cover TEXT,                     -- resource path
    toc TEXT NOT NULL,              -- JSON, nested
    content_hash TEXT NOT NULL UNIQUE,
    access TEXT NOT NULL DEFAULT 'public' CHECK (access IN ('public', 'signed_in', 'groups')),
    edition_of TEXT REFERENCES books (id) ON DELETE SET NULL,
    search_key TEXT NOT NULL,       -- lower-cased title and authors, for catalogue search
    imported_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX books_created ON books (created_at, id);

-- The groups that may read a book whose access is 'groups'.
CREATE TABLE book_groups (
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (book_id, group_id)
);
CREATE INDEX book_groups_group ON book_groups (group_id);

CREATE TABLE chapters (
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    idref TEXT NOT NULL,
    href TEXT NOT NULL,
    title TEXT,
    html TEXT NOT NULL,
    PRIMARY KEY (book_id, idx)
);

CREATE TABLE passages (
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    chapter BIGINT NOT NULL,
    ordinal BIGINT NOT NULL,
    cfi TEXT NOT NULL,
    text TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (book_id, id)
);
CREATE INDEX passages_order ON passages (book_id, chapter, ordinal);

CREATE TABLE resources (
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    media_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (book_id, path)
);

CREATE TABLE annotations (
    id TEXT PRIMARY KEY,
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    passage_id TEXT NOT NULL,
    chapter BIGINT NOT NULL,
    ordinal BIGINT NOT NULL,
    start_pos BIGINT NOT NULL,
    end_pos BIGINT NOT NULL,
    exact TEXT NOT NULL,
    prefix TEXT NOT NULL DEFAULT '',
    suffix TEXT NOT NULL DEFAULT '',
    cfi TEXT NOT NULL DEFAULT '',
    motivation TEXT NOT NULL CHECK (motivation IN ('highlighting', 'commenting', 'replying', 'bookmarking')),
    body TEXT,
    body_html TEXT,
    tags TEXT NOT NULL DEFAULT '[]', -- JSON array, mirrored in annotation_tags for filtering
    color TEXT,
    audience TEXT NOT NULL CHECK (audience IN ('private', 'group', 'public')),
    group_id TEXT REFERENCES groups (id) ON DELETE SET NULL,
    reply_to TEXT REFERENCES annotations (id) ON DELETE CASCADE,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    deleted BOOLEAN NOT NULL DEFAULT FALSE, -- a tombstone kept for its replies
    anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    written_blind BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX annotations_book_chapter ON annotations (book_id, chapter, ordinal);
CREATE INDEX annotations_passage ON annotations (book_id, passage_id);
CREATE INDEX annotations_author ON annotations (author_id, book_id);
CREATE INDEX annotations_reply ON annotations (reply_to);
CREATE INDEX annotations_group ON annotations (group_id);

CREATE TABLE annotation_tags (
    annotation_id TEXT NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (annotation_id, tag)
);
CREATE INDEX annotation_tags_tag ON annotation_tags (tag);

-- Margin preferences: book_id '' holds the account default.
CREATE TABLE preferences (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    book_id TEXT NOT NULL,
    margin TEXT NOT NULL CHECK (margin IN ('none', 'groups', 'everyone')),
    my_reading_first BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, book_id)
);

CREATE TABLE mutes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    muted_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, muted_id)
);

-- Passages a reader chose to see others' notes on before writing their own.
CREATE TABLE reveals (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    passage_id TEXT NOT NULL,
    PRIMARY KEY (user_id, book_id, passage_id)
);

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    annotation_id TEXT NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    reporter_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    reason TEXT NOT NULL,
    resolved BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX reports_annotation ON reports (annotation_id);

-- Full-text search over passages.
CREATE VIRTUAL TABLE passages_fts USING fts5 (
    text, content = 'passages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts (passages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
