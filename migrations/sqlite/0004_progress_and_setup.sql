-- Where each reader is in each book (it follows them across devices), and the one-time link
-- that creates the first account on a new server. Both go with their account or book.
CREATE TABLE reading_progress (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    book_id TEXT NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    chapter BIGINT NOT NULL,
    passage_id TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, book_id)
);
CREATE INDEX reading_progress_recent ON reading_progress (user_id, updated_at, book_id);

-- Only the SHA-256 of a setup token is kept, so the database alone cannot be used to sign up.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
