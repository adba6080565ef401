//! What the two databases say differently. Everything else is one SQL text for both; these
//! few queries are written per backend, behind [`Dialect`], chosen once when the store
//! connects.

use std::fmt::Debug;

use super::Sql;
use super::search::contains_pattern;

pub trait Dialect: Send + Sync + Debug {
    /// How a search finds passages `p` holding every one of `terms` (each
    /// [indexable](super::search::indexable)), case-insensitively, by the trigram index.
    fn passages_matching(&self, sql: &mut Sql, terms: &[&str]) -> Found;

    /// How a search finds notes `s` of book `book` (a placeholder) whose body, quote or one
    /// of whose tags holds `text` ([indexable](super::search::indexable)), case-insensitively,
    /// by the trigram indexes. Tombstones may be among them: the caller leaves them out.
    fn notes_matching(&self, sql: &mut Sql, book: &str, text: &str) -> Found;

    /// How many rows of the whole library (of every book) the trigram index finds for
    /// `terms` in `searched`, counted up to `limit` or estimated: neither planner weighs
    /// that against a walk of the book itself.
    fn library_matches(&self, searched: Searched, terms: &[&str], limit: i64) -> LibraryMatches;

    /// A query returning the rows of `select`, whose columns are `fields`, as one JSON array
    /// text, where decoding that is cheaper than decoding rows; `None` to fetch the rows.
    fn json_page(&self, select: &str, fields: &str) -> Option<String>;

    /// The statement that indexes the passages of book `$1` once all of them are stored, in
    /// the transaction that stores them, where the database does not index rows as they are
    /// inserted.
    fn index_book_passages(&self) -> Option<&'static str>;

    /// The statements, run in one transaction, that bring the planner's statistics up to
    /// date where the database does not keep them itself; none where it does.
    fn refresh_statistics(&self) -> &'static [&'static str];
}

/// What a search looks in.
#[derive(Debug, Clone, Copy)]
pub enum Searched {
    Passages,
    /// Notes, for one text ([`Dialect::notes_matching`]).
    Notes,
}

/// A query for the matches of a search in the whole library ([`Dialect::library_matches`]).
pub enum LibraryMatches {
    /// Its one value is their number.
    Counted(Sql),
    /// EXPLAIN of a query finding them: the planner's estimate of their number is the
    /// `rows=` of its first line.
    Estimated(Sql),
}

/// Rows a search finds: the `FROM` clause naming them (with their usual alias), and the
/// condition they meet.
pub struct Found {
    pub from: String,
    pub condition: String,
}

#[derive(Debug)]
pub struct Sqlite;

#[derive(Debug)]
pub struct Postgres;

/// `text` as an FTS5 string, which the trigram tokenizer matches as a substring; inside one,
/// only `"` means anything, and doubled it is itself.
fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The FTS5 query for passages holding every one of `terms`: adjacent strings must all match.
fn passages_query(terms: &[&str]) -> String {
    terms
        .iter()
        .map(|term| fts_string(term))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The FTS5 query for notes holding `text`. annotations_fts holds the tags one a line
/// (migration 0010): a text with a newline is looked for in bodies and quotes only, so that
/// it cannot match across two tags.
fn notes_query(text: &str) -> String {
    match text.contains('\n') {
        true => format!("{{body quote}} : {}", fts_string(text)),
        false => fts_string(text),
    }
}

impl Dialect for Sqlite {
    fn passages_matching(&self, sql: &mut Sql, terms: &[&str]) -> Found {
        // The index goes first (CROSS JOIN keeps that order): without ANALYZE's statistics
        // SQLite would rather walk every passage of the book and look each up in the list of
        // matches.
        Found {
            from: "passages_fts pf CROSS JOIN passages p ON p.rowid = pf.rowid".to_owned(),
            condition: format!("pf.passages_fts MATCH {}", sql.arg(passages_query(terms))),
        }
    }

    fn notes_matching(&self, sql: &mut Sql, _book: &str, text: &str) -> Found {
        // The index first, as for passages: an empty search then reads no note at all.
        Found {
            from: "annotations_fts nf CROSS JOIN annotations s ON s.rowid = nf.rowid".to_owned(),
            condition: format!("nf.annotations_fts MATCH {}", sql.arg(notes_query(text))),
        }
    }

    fn library_matches(&self, searched: Searched, terms: &[&str], limit: i64) -> LibraryMatches {
        // The index yields its matches in rowid order, one book's among every other's: a
        // word in most notes of the library would be matched and checked everywhere before
        // a page of this book is chosen. Counting stops at `limit`.
        let (table, query) = match searched {
            Searched::Passages => ("passages_fts", passages_query(terms)),
            Searched::Notes => ("annotations_fts", notes_query(&terms.concat())),
        };
        LibraryMatches::Counted(
            Sql::new(format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH $1 LIMIT $2) m"
            ))
            .bind(query)
            .bind(limit),
        )
    }

    fn json_page(&self, select: &str, fields: &str) -> Option<String> {
        // SQLite hands back a row's columns one call at a time; one JSON text per page is
        // decoded by serde in a single pass (BENCHMARKS.md, "Annotations").
        Some(format!(
            "SELECT json_group_array(json_array({fields})) FROM ({select}) s"
        ))
    }

    fn index_book_passages(&self) -> Option<&'static str> {
        // In one statement (migration 0011), in the order they were inserted in, so rowids
        // ascend: FTS5 writes what it holds to disk whenever a rowid is lower than the last.
        Some(
            "INSERT INTO passages_fts (rowid, text) \
             SELECT rowid, text FROM passages WHERE book_id = $1 ORDER BY chapter, ordinal",
        )
    }

    fn refresh_statistics(&self) -> &'static [&'static str] {
        // SQLite never analyzes on its own, and without statistics it picks indexes by their
        // shape alone: a count over a chapter walked the whole book's index. 0x10002 analyzes
        // every table that has none yet or whose size changed much since, each within the
        // pragma's own row limit, so it stays quick on a large database (sqlite.org/pragma).
        //
        // Only the per-index figures are kept (sqlite_stat1). The driver's SQLite samples
        // values too (sqlite_stat4), and with samples a prepared statement is compiled again
        // every time a value is bound to a column they describe: every query paid its whole
        // preparation each time it ran, 0.7 to 1.6 ms for a margin's (BENCHMARKS.md). The
        // tiny ANALYZE makes sure the sample table exists before it is emptied; the last
        // statement has this connection read the statistics again.
        &[
            "PRAGMA optimize=0x10002",
            "ANALYZE _sqlx_migrations",
            "DELETE FROM sqlite_stat4",
            "ANALYZE sqlite_schema",
        ]
    }
}

impl Dialect for Postgres {
    fn passages_matching(&self, sql: &mut Sql, terms: &[&str]) -> Found {
        // gin_trgm_ops serves ILIKE on the column itself (migration 0010); the backslash
        // that escape_like escapes with is ILIKE's default escape.
        let condition = terms
            .iter()
            .map(|term| format!("p.text ILIKE {}", sql.arg(contains_pattern(term))))
            .collect::<Vec<_>>()
            .join(" AND ");
        Found {
            from: "passages p".to_owned(),
            condition,
        }
    }

    fn notes_matching(&self, sql: &mut Sql, book: &str, text: &str) -> Found {
        // One field at a time, each by its own index (bodies and quotes by partial indexes
        // of the notes that are no tombstones, migration 0010): an OR of the three in one
        // WHERE could not use them, as the tags are in a table of their own.
        let pattern = sql.arg(contains_pattern(text));
        Found {
            from: "annotations s".to_owned(),
            condition: format!(
                "s.id IN ( \
                    SELECT n.id FROM annotations n \
                    WHERE n.book_id = {book} AND n.deleted = FALSE AND n.body ILIKE {pattern} \
                  UNION ALL \
                    SELECT n.id FROM annotations n \
                    WHERE n.book_id = {book} AND n.deleted = FALSE AND n.exact ILIKE {pattern} \
                  UNION ALL \
                    SELECT t.annotation_id FROM annotation_tags t WHERE t.tag ILIKE {pattern})"
            ),
        }
    }

    fn library_matches(&self, searched: Searched, terms: &[&str], _limit: i64) -> LibraryMatches {
        // A GIN index yields a bitmap of every match in the library before one row is read,
        // and a count would cost what it is meant to spare. The planner estimates the
        // matches from ANALYZE's sample of each column; it cannot weigh them against a walk
        // of the book itself, as a note matches when any of three fields does, a semi-join
        // it computes whole. EXPLAIN plans a statement with its values even when prepared.
        let mut sql = Sql::default();
        let (from, condition) = match searched {
            Searched::Passages => {
                let found = self.passages_matching(&mut sql, terms);
                (found.from, found.condition)
            }
            Searched::Notes => {
                let pattern = sql.arg(contains_pattern(&terms.concat()));
                let holds = format!("body ILIKE {pattern} OR exact ILIKE {pattern}");
                (
                    "annotations".to_owned(),
                    format!("deleted = FALSE AND ({holds})"),
                )
            }
        };
        sql.text = format!("EXPLAIN SELECT 1 FROM {from} WHERE {condition}");
        LibraryMatches::Estimated(sql)
    }

    fn json_page(&self, _select: &str, _fields: &str) -> Option<String> {
        // PostgreSQL streams rows over its protocol, where the aggregate costs more than it
        // saves.
        None
    }

    fn index_book_passages(&self) -> Option<&'static str> {
        // The GIN index on the text follows each INSERT (migration 0010).
        None
    }

    fn refresh_statistics(&self) -> &'static [&'static str] {
        // Autovacuum analyzes each table as it changes.
        &[]
    }
}
