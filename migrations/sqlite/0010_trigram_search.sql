-- Search by trigrams, which find words in any script: the unicode61 tokenizer splits text at
-- spaces and punctuation, so Chinese or Japanese (written without spaces) became one token a
-- sentence long that no word of it matched. A trigram table matches any substring of three
-- characters or more, case-insensitively and without diacritics; shorter queries are
-- answered by a scan of the book (src/store/search.rs).

-- Passages: the same external-content table, rebuilt from passages with the new tokenizer.
DROP TRIGGER passages_fts_insert;
DROP TRIGGER passages_fts_delete;
DROP TABLE passages_fts;
CREATE VIRTUAL TABLE passages_fts USING fts5 (
    text, content = 'passages', content_rowid = 'rowid', tokenize = 'trigram remove_diacritics 1'
);
INSERT INTO passages_fts (passages_fts) VALUES ('rebuild');
CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts (passages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
-- Bringing a book up to today's importer rewrites passage texts in place (refresh.rs); the
-- index must follow, and its 'delete' must be given the text it indexed.
CREATE TRIGGER passages_fts_update AFTER UPDATE OF text ON passages BEGIN
    INSERT INTO passages_fts (passages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO passages_fts (rowid, text) VALUES (new.rowid, new.text);
END;

-- Notes: body, quote and tags of every note that still has words (a tombstone has none).
-- Contentless, so nothing is stored twice; contentless_delete lets a trigger remove a row by
-- its rowid alone, without the values it indexed. The tags are one text, one tag a line: no
-- tag holds a newline in practice, and a query with one is not matched against tags (see
-- the SQLite dialect), so no match spans two tags.
CREATE VIRTUAL TABLE annotations_fts USING fts5 (
    body, quote, tags,
    content = '', contentless_delete = 1, tokenize = 'trigram remove_diacritics 1'
);
INSERT INTO annotations_fts (rowid, body, quote, tags)
    SELECT a.rowid, a.body, a.exact, (SELECT group_concat(t.value, char(10)) FROM json_each(a.tags) t)
    FROM annotations a WHERE a.deleted = FALSE;
CREATE TRIGGER annotations_fts_insert AFTER INSERT ON annotations WHEN new.deleted = FALSE BEGIN
    INSERT INTO annotations_fts (rowid, body, quote, tags)
        VALUES (new.rowid, new.body, new.exact,
                (SELECT group_concat(t.value, char(10)) FROM json_each(new.tags) t));
END;
-- Also when a note goes with its book or its thread (ON DELETE CASCADE fires triggers).
CREATE TRIGGER annotations_fts_delete AFTER DELETE ON annotations BEGIN
    DELETE FROM annotations_fts WHERE rowid = old.rowid;
END;
-- An edit, a refreshed quote, or a note becoming a tombstone.
CREATE TRIGGER annotations_fts_update AFTER UPDATE OF body, exact, tags, deleted ON annotations BEGIN
    DELETE FROM annotations_fts WHERE rowid = old.rowid;
    INSERT INTO annotations_fts (rowid, body, quote, tags)
        SELECT new.rowid, new.body, new.exact,
               (SELECT group_concat(t.value, char(10)) FROM json_each(new.tags) t)
        WHERE new.deleted = FALSE;
END;
