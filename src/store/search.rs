//! Full-text search over a book's passages: FTS5 on SQLite, a `to_tsvector('simple', …)`
//! GIN index on PostgreSQL. The two engines differ, so each gets its own SQL; annotations
//! are searched through [`Store::annotations`] and the visibility rule, not here.

use uuid::Uuid;

use super::{Db, Store};

/// Marks the start and end of a match in a raw snippet. Passage text is plain text from
/// XHTML, where these control characters cannot occur, so they cannot be confused with it;
/// the API turns them into `<mark>` tags after escaping the text.
pub const MATCH_START: char = '\u{1}';
pub const MATCH_END: char = '\u{2}';

/// Words searched for at most, to bound the cost of one query.
const MAX_TERMS: usize = 16;

/// A matching passage with a snippet of its text, matches between [`MATCH_START`] and
/// [`MATCH_END`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PassageHit {
    pub id: String,
    pub chapter: i64,
    pub ordinal: i64,
    pub snippet: String,
}

/// The words of a user's query: runs of letters and digits. Everything else (quotes,
/// parentheses, `*`, `-`, `:`) is dropped, so no operator of either engine's query syntax
/// survives; words like `AND` or `NEAR` are then quoted and match as plain words.
pub fn search_terms(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(MAX_TERMS)
        .map(str::to_owned)
        .collect()
}

impl Store {
    /// Passages of `book` containing every term, in reading order after the
    /// `(chapter, ordinal)` cursor. The caller checks that the reader may read the book.
    pub async fn search_passages(
        &self,
        book: Uuid,
        terms: &[String],
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> sqlx::Result<Vec<PassageHit>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let (after_chapter, after_ordinal) = after.unwrap_or((-1, -1));
        match &self.db {
            Db::Sqlite(pool) => {
                // Each term as an FTS5 string: adjacent strings must all match.
                let fts_query = terms
                    .iter()
                    .map(|term| format!("\"{term}\""))
                    .collect::<Vec<_>>()
                    .join(" ");
                let sql = "SELECT p.id, p.chapter, p.ordinal,
                               snippet(passages_fts, 0, char(1), char(2), '…', 32) AS snippet
                           FROM passages_fts JOIN passages p ON p.rowid = passages_fts.rowid
                           WHERE passages_fts MATCH $1 AND p.book_id = $2
                             AND (p.chapter > $3 OR (p.chapter = $3 AND p.ordinal > $4))
                           ORDER BY p.chapter, p.ordinal LIMIT $5";
                sqlx::query_as(sql)
                    .bind(fts_query)
                    .bind(book.to_string())
                    .bind(after_chapter)
                    .bind(after_ordinal)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
            Db::Postgres(pool) => {
                // plainto_tsquery ANDs the words and has no operators to abuse. The WHERE
                // expression is the indexed one, so the GIN index serves it.
                let sql = "SELECT p.id, p.chapter, p.ordinal,
                               ts_headline('simple', p.text, q.query, $6) AS snippet
                           FROM passages p, plainto_tsquery('simple', $1) AS q(query)
                           WHERE p.book_id = $2 AND to_tsvector('simple', p.text) @@ q.query
                             AND (p.chapter > $3 OR (p.chapter = $3 AND p.ordinal > $4))
                           ORDER BY p.chapter, p.ordinal LIMIT $5";
                let options = format!(
                    "StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=32, MinWords=12"
                );
                sqlx::query_as(sql)
                    .bind(terms.join(" "))
                    .bind(book.to_string())
                    .bind(after_chapter)
                    .bind(after_ordinal)
                    .bind(limit)
                    .bind(options)
                    .fetch_all(pool)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::search_terms;

    #[test]
    fn query_syntax_is_reduced_to_words() {
        assert!(search_terms("\"").is_empty());
        assert!(search_terms("* ( ) : ^ -").is_empty());
        assert_eq!(search_terms("AND ("), ["AND"]);
        assert_eq!(
            search_terms("rabbit* NEAR(hole, 2)"),
            ["rabbit", "NEAR", "hole", "2"]
        );
        assert_eq!(search_terms("Ça va, Zoë?"), ["Ça", "va", "Zoë"]);
    }
}
