-- Which importer's rules a book's stored chapters, passages and resources follow. Books from
-- before the tree-based sanitizer (version 1) are brought up to date at start-up
-- (src/store/refresh.rs), keeping their passage ids and notes.
ALTER TABLE books ADD COLUMN content_version BIGINT NOT NULL DEFAULT 1;

-- How a book asks to be laid out (JSON: fixed_layout, page_progression_direction), and each
-- fixed-layout page's size ("1474x2324").
ALTER TABLE books ADD COLUMN rendition TEXT NOT NULL DEFAULT '{}';
ALTER TABLE chapters ADD COLUMN viewport TEXT;
