//! Full-text search over a book's passages: FTS5 on SQLite, a `to_tsvector('simple', …)`
//! GIN index on PostgreSQL, each queried by its [`super::dialect::Dialect`]; annotations
//! are searched through [`Store::annotations`] and the visibility rule, not here.

use uuid::Uuid;

use super::Store;
use super::users::User;
use super::visibility::ReadError;

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
    /// `(chapter, ordinal)` cursor; [`ReadError::NotReadable`] when `viewer` may not read the
    /// book (passages have no rule of their own: the book's decides).
    pub async fn search_passages(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        terms: &[String],
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<PassageHit>, ReadError> {
        self.ensure_readable(viewer, book).await?;
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let sql = self
            .dialect
            .passage_search(book, terms, after.unwrap_or((-1, -1)), limit);
        Ok(self.db.fetch_all(sql).await?)
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
