-- A book's passages are indexed by one statement once all of them are stored, in the import's
-- transaction (src/store/books.rs), no longer by a trigger as each INSERT adds them. FTS5
-- writes the terms it holds to disk at every statement of a transaction, so the trigger left a
-- small segment per INSERT of 500 passages, and merging those again and again, with the
-- transaction's pages evicted and read back from the WAL, made a 50 MB book's import cost
-- 70 CPU seconds (17 now, BENCHMARKS.md "Import"). In one statement the terms are written
-- once 16 MiB of them are held, so few segments are ever merged.
DROP TRIGGER passages_fts_insert;
INSERT INTO passages_fts (passages_fts, rank) VALUES ('hashsize', 16777216);
