-- Listings walk a book's or a chapter's notes in the order they are shown and stop after a
-- page, deciding visibility row by row (src/store/visibility.rs): newest first, or in
-- reading order. The reading-order index also serves lookups by chapter alone.
DROP INDEX annotations_book_chapter;
CREATE INDEX annotations_book_newest ON annotations (book_id, created_at, id);
CREATE INDEX annotations_chapter_newest ON annotations (book_id, chapter, created_at, id);
CREATE INDEX annotations_reading ON annotations (book_id, chapter, ordinal, start_pos, created_at, id);
