-- The sets a reader's margin draws from, each a range on one chapter in newest-first order:
-- a reader's own notes, a group's notes, and the public ones. A listing, a count or a page
-- reads each set the reader may see instead of walking every note of the chapter. The public
-- notes, the one set as large as a chapter's notes, are also kept in reading order, the order
-- the reader's margin asks for.
DROP INDEX annotations_author;
CREATE INDEX annotations_author ON annotations (author_id, book_id, chapter, created_at, id);
DROP INDEX annotations_group;
CREATE INDEX annotations_group ON annotations (group_id, book_id, chapter, created_at, id);
CREATE INDEX annotations_public ON annotations (book_id, chapter, created_at, id)
    WHERE audience = 'public';
CREATE INDEX annotations_public_reading
    ON annotations (book_id, chapter, ordinal, start_pos, created_at, id)
    WHERE audience = 'public';
