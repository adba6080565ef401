//! What the two databases say differently. Everything else is one SQL text for both; these
//! few queries are written per backend, behind [`Dialect`], chosen once when the store
//! connects.

use std::fmt::Debug;

use uuid::Uuid;

use super::Sql;
use super::search::{MATCH_END, MATCH_START};

pub trait Dialect: Send + Sync + Debug {
    /// Passages of `book` holding every term, in reading order after the `(chapter, ordinal)`
    /// cursor, as rows of `id, chapter, ordinal, snippet`.
    fn passage_search(&self, book: Uuid, terms: &[String], after: (i64, i64), limit: i64) -> Sql;

    /// A query returning the rows of `select`, whose columns are `fields`, as one JSON array
    /// text, where decoding that is cheaper than decoding rows; `None` to fetch the rows.
    fn json_page(&self, select: &str, fields: &str) -> Option<String>;

    /// A statement that brings the planner's statistics up to date, where the database does
    /// not keep them itself; `None` where it does.
    fn refresh_statistics(&self) -> Option<&'static str>;
}

#[derive(Debug)]
pub struct Sqlite;

#[derive(Debug)]
pub struct Postgres;

impl Dialect for Sqlite {
    fn passage_search(&self, book: Uuid, terms: &[String], after: (i64, i64), limit: i64) -> Sql {
        // Each term as an FTS5 string: adjacent strings must all match.
        let fts_query = terms
            .iter()
            .map(|term| format!("\"{term}\""))
            .collect::<Vec<_>>()
            .join(" ");
        Sql::new(
            "SELECT p.id, p.chapter, p.ordinal,
                 snippet(passages_fts, 0, char(1), char(2), '…', 32) AS snippet
             FROM passages_fts JOIN passages p ON p.rowid = passages_fts.rowid
             WHERE passages_fts MATCH $1 AND p.book_id = $2
               AND (p.chapter > $3 OR (p.chapter = $3 AND p.ordinal > $4))
             ORDER BY p.chapter, p.ordinal LIMIT $5",
        )
        .bind(fts_query)
        .bind(book)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
    }

    fn json_page(&self, select: &str, fields: &str) -> Option<String> {
        // SQLite hands back a row's columns one call at a time; one JSON text per page is
        // decoded by serde in a single pass (BENCHMARKS.md, "Annotations").
        Some(format!(
            "SELECT json_group_array(json_array({fields})) FROM ({select}) s"
        ))
    }

    fn refresh_statistics(&self) -> Option<&'static str> {
        // SQLite never analyzes on its own, and without statistics it picks indexes by their
        // shape alone: a count over a chapter walked the whole book's index. 0x10002 analyzes
        // every table that has none yet or whose size changed much since, each within the
        // pragma's own row limit, so it stays quick on a large database (sqlite.org/pragma).
        Some("PRAGMA optimize=0x10002")
    }
}

impl Dialect for Postgres {
    fn passage_search(&self, book: Uuid, terms: &[String], after: (i64, i64), limit: i64) -> Sql {
        // plainto_tsquery ANDs the words and has no operators to abuse. The WHERE expression
        // is the indexed one, so the GIN index serves it.
        Sql::new(
            "SELECT p.id, p.chapter, p.ordinal,
                 ts_headline('simple', p.text, q.query, $6) AS snippet
             FROM passages p, plainto_tsquery('simple', $1) AS q(query)
             WHERE p.book_id = $2 AND to_tsvector('simple', p.text) @@ q.query
               AND (p.chapter > $3 OR (p.chapter = $3 AND p.ordinal > $4))
             ORDER BY p.chapter, p.ordinal LIMIT $5",
        )
        .bind(terms.join(" "))
        .bind(book)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .bind(format!(
            "StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=32, MinWords=12"
        ))
    }

    fn json_page(&self, _select: &str, _fields: &str) -> Option<String> {
        // PostgreSQL streams rows over its protocol, where the aggregate costs more than it
        // saves.
        None
    }

    fn refresh_statistics(&self) -> Option<&'static str> {
        // Autovacuum analyzes each table as it changes.
        None
    }
}
