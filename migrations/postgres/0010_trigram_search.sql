-- Search by trigrams, which find words in any script: tsvector splits text at spaces and
-- punctuation, so Chinese or Japanese (written without spaces) became one lexeme a sentence
-- long that no word of it matched. pg_trgm's GIN indexes serve ILIKE '%…%' for any substring
-- holding three letters or digits in a row; shorter queries are answered by a scan of the
-- book (src/store/search.rs). pg_trgm is a trusted extension: the database's owner (or a
-- role with CREATE on it) may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

DROP INDEX passages_fts;
CREATE INDEX passages_text_trgm ON passages USING GIN (text gin_trgm_ops);

-- Note search asks each field apart, `deleted = FALSE` beside it (tombstones have no words to
-- find), so that these partial indexes serve it (the PostgreSQL dialect).
CREATE INDEX annotations_body_trgm ON annotations USING GIN (body gin_trgm_ops)
    WHERE deleted = FALSE;
CREATE INDEX annotations_exact_trgm ON annotations USING GIN (exact gin_trgm_ops)
    WHERE deleted = FALSE;
CREATE INDEX annotation_tags_trgm ON annotation_tags USING GIN (tag gin_trgm_ops);
