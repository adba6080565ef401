//! Search over a book's passages, by trigram indexes that find words in any script (FTS5's
//! `trigram` tokenizer on SQLite, `pg_trgm` on PostgreSQL; migration 0010), each queried by
//! its [`super::dialect::Dialect`]; annotations are searched through [`Store::annotations`]
//! and the visibility rule, not here, by the same indexes.
//!
//! A trigram index finds a substring only through its trigrams: [`indexable`] says which
//! texts have one. Shorter ones (a two-character Japanese word such as 山路) are matched by a
//! scan of the one book's rows, never of every book's.
//!
//! Snippets are cut here, from the text, for both databases alike.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

use super::dialect::{LibraryMatches, Searched};
use super::users::User;
use super::visibility::ReadError;
use super::{Sql, Store, escape_like};

/// Marks the start and end of a match in a raw snippet. Passage text is plain text from
/// XHTML, where these control characters cannot occur, so they cannot be confused with it;
/// the API turns them into `<mark>` tags after escaping the text.
pub const MATCH_START: char = '\u{1}';
pub const MATCH_END: char = '\u{2}';

/// Words searched for at most, to bound the cost of one query.
const MAX_TERMS: usize = 16;

/// Matches in the whole library from which a search walks the book instead of the index's
/// matches ([`Store::reaches_by_index`]).
const MANY_MATCHES: i64 = 1_000;

/// Characters of text kept before the first match of a snippet, and after it.
const CONTEXT_BEFORE: usize = 60;
const CONTEXT_AFTER: usize = 140;

/// A matching passage with a snippet of its text, matches between [`MATCH_START`] and
/// [`MATCH_END`].
#[derive(Debug, Clone)]
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

/// Whether a trigram index can find `text`: it holds three letters or digits in a row.
/// FTS5's trigram tokenizer would take any three characters, but pg_trgm takes its trigrams
/// from runs of letters and digits only and scans its whole index for a pattern without one;
/// the stricter rule holds for both.
pub fn indexable(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_alphanumeric() { run + 1 } else { 0 };
        if run == 3 {
            return true;
        }
    }
    false
}

/// A `LIKE` pattern (`ESCAPE '\'`) matching any text that contains `text`.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

impl Store {
    /// Passages of `book` containing every term (case-insensitively), in reading order after
    /// the `(chapter, ordinal)` cursor; [`ReadError::NotReadable`] when `viewer` may not read
    /// the book (passages have no rule of their own: the book's decides).
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
        let (indexed, short): (Vec<&str>, Vec<&str>) = terms
            .iter()
            .map(String::as_str)
            .partition(|term| indexable(term));
        let by_index =
            !indexed.is_empty() && self.reaches_by_index(Searched::Passages, &indexed).await?;
        let (indexed, short) = match by_index {
            true => (indexed, short),
            false => (Vec::new(), terms.iter().map(String::as_str).collect()),
        };
        let mut sql = Sql::default();
        let (from, mut conditions) = match indexed.is_empty() {
            true => ("passages p".to_owned(), Vec::new()),
            false => {
                let found = self.dialect.passages_matching(&mut sql, &indexed);
                (found.from, vec![found.condition])
            }
        };
        conditions.push(format!("p.book_id = {}", sql.arg(book.to_string())));
        // The book's passages in reading order, until a page: LOWER on both sides, as no
        // index serves (PostgreSQL's trigram index serves ILIKE, and would scan all of itself
        // for a term it holds no trigram of).
        for term in &short {
            conditions.push(format!(
                "LOWER(p.text) LIKE LOWER({}) ESCAPE '\\'",
                sql.arg(contains_pattern(term))
            ));
        }
        let (chapter, ordinal) = after.unwrap_or((-1, -1));
        let (chapter, ordinal) = (sql.arg(chapter), sql.arg(ordinal));
        conditions.push(format!(
            "(p.chapter > {chapter} OR (p.chapter = {chapter} AND p.ordinal > {ordinal}))"
        ));
        sql.text = format!(
            "SELECT p.id, p.chapter, p.ordinal, p.text FROM {from} WHERE {} \
             ORDER BY p.chapter, p.ordinal LIMIT {}",
            conditions.join(" AND "),
            sql.arg(limit)
        );
        let rows: Vec<(String, i64, i64, String)> = self.db.fetch_all(sql).await?;
        let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
        Ok(rows
            .into_iter()
            .map(|(id, chapter, ordinal, text)| PassageHit {
                snippet: snippet(&text, &terms).unwrap_or_else(|| clip(&text)),
                id,
                chapter,
                ordinal,
            })
            .collect())
    }

    /// Whether a search for `terms` in `searched` goes by the trigram index's matches rather
    /// than along the book. The index wins unless the words are in so many rows of the whole
    /// library that a walk of the book, in the listing's order and stopping at a page, reads
    /// fewer ([`super::dialect::Dialect::library_matches`]).
    pub(super) async fn reaches_by_index(
        &self,
        searched: Searched,
        terms: &[&str],
    ) -> sqlx::Result<bool> {
        let matches = match self.dialect.library_matches(searched, terms, MANY_MATCHES) {
            LibraryMatches::Counted(count) => self.db.scalar::<i64>(count).await?,
            LibraryMatches::Estimated(explain) => {
                let plan: Vec<String> = self.db.scalars(explain).await?;
                plan.first()
                    .and_then(|line| estimated_rows(line))
                    .unwrap_or(0)
            }
        };
        Ok(matches < MANY_MATCHES)
    }
}

/// The rows a line of PostgreSQL's EXPLAIN estimates, as in
/// `Seq Scan on annotations  (cost=0.00..96456.51 rows=386560 width=4)`.
fn estimated_rows(line: &str) -> Option<i64> {
    let (_, rest) = line.split_once(" rows=")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// `text` around its matches of `needles`, each match between [`MATCH_START`] and
/// [`MATCH_END`], elided with `…` where cut; None when no needle occurs. Matching ignores
/// case and diacritics (as SQLite's trigram index does), a character at a time, so a match
/// never starts or ends inside a character, nor before the marks that combine with its last
/// letter. The window is the one after the earliest match that holds the most needles.
/// Marker characters in `text` itself are dropped, so every marker is a match's.
pub fn snippet(text: &str, needles: &[&str]) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<Vec<char>> = chars.iter().map(|&c| fold(c).collect()).collect();
    // Matches as (start, end, needle) char ranges of `text`.
    let mut matches: Vec<(usize, usize, usize)> = Vec::new();
    for (n, needle) in needles.iter().enumerate() {
        let needle: Vec<char> = needle.chars().flat_map(fold).collect();
        if needle.is_empty() {
            continue;
        }
        let mut i = 0;
        while i < chars.len() {
            match match_at(&folded, i, &needle) {
                Some(end) => {
                    matches.push((i, end, n));
                    i = end;
                }
                None => i += 1,
            }
        }
    }
    if matches.is_empty() {
        return None;
    }
    matches.sort_unstable();
    let window = |start: usize, end: usize| {
        let mut from = start.saturating_sub(CONTEXT_BEFORE);
        while from > 0 && is_combining_mark(chars[from]) {
            from -= 1;
        }
        let mut to = (end + CONTEXT_AFTER).min(chars.len());
        while to < chars.len() && is_combining_mark(chars[to]) {
            to += 1;
        }
        (from, to)
    };
    let needles_in = |(from, to): (usize, usize)| {
        let mut seen: Vec<usize> = matches
            .iter()
            .filter(|&&(start, end, _)| start >= from && end <= to)
            .map(|&(_, _, n)| n)
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    // The earliest window among those holding the most needles.
    let (from, to) = matches
        .iter()
        .map(|&(start, end, _)| window(start, end))
        .rev()
        .max_by_key(|&w| needles_in(w))?;
    // Matches inside the window, overlapping ones (of different needles) merged.
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for &(start, end, _) in matches.iter().filter(|m| m.0 >= from && m.1 <= to) {
        match marks.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => marks.push((start, end)),
        }
    }
    let mut raw = String::with_capacity(text.len().min(4 * (to - from)) + 16);
    if from > 0 {
        raw.push('…');
    }
    let mut marks = marks.into_iter().peekable();
    let mut open_until = None;
    for (index, &c) in chars.iter().enumerate().take(to).skip(from) {
        if open_until == Some(index) {
            raw.push(MATCH_END);
            open_until = None;
        }
        if let Some(&(start, end)) = marks.peek() {
            if start == index {
                raw.push(MATCH_START);
                open_until = Some(end);
                marks.next();
            }
        }
        if c != MATCH_START && c != MATCH_END {
            raw.push(c);
        }
    }
    if open_until.is_some() {
        raw.push(MATCH_END);
    }
    if to < chars.len() {
        raw.push('…');
    }
    Some(raw)
}

/// Where a match of `needle` (folded) starting at char `i` of a text (folded a char at a
/// time) ends, if one does: it starts on a letter, not on a mark combining with one, and
/// takes in the marks combining with its last letter.
fn match_at(folded: &[Vec<char>], i: usize, needle: &[char]) -> Option<usize> {
    if folded[i].is_empty() {
        return None;
    }
    let (mut j, mut k) = (i, 0);
    while k < needle.len() {
        let part = folded.get(j)?;
        if !needle[k..].starts_with(part) {
            return None;
        }
        k += part.len();
        j += 1;
    }
    while folded.get(j).is_some_and(Vec::is_empty) {
        j += 1;
    }
    Some(j)
}

/// One character as matching compares it: lower case, without diacritics (a combining mark
/// is nothing; `Ü` is `u`).
fn fold(c: char) -> impl Iterator<Item = char> {
    std::iter::once(c)
        .nfd()
        .filter(|&d| !is_combining_mark(d))
        .flat_map(char::to_lowercase)
}

/// The start of a passage's text, for a hit whose snippet finds no match (a database that
/// folds a character otherwise than [`fold`]).
fn clip(text: &str) -> String {
    let kept = CONTEXT_BEFORE + CONTEXT_AFTER;
    let mut raw: String = text
        .chars()
        .take(kept)
        .filter(|&c| c != MATCH_START && c != MATCH_END)
        .collect();
    if text.chars().nth(kept).is_some() {
        raw.push('…');
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::{MATCH_END, MATCH_START, estimated_rows, indexable, search_terms, snippet};

    #[test]
    fn explain_lines_give_their_rows() {
        let line = "Seq Scan on annotations  (cost=0.00..96456.51 rows=386560 width=4)";
        assert_eq!(estimated_rows(line), Some(386_560));
        let line = "Bitmap Heap Scan on passages  (cost=64.03..71.89 rows=2 width=4)";
        assert_eq!(estimated_rows(line), Some(2));
        assert_eq!(estimated_rows("Result  (cost=0.00..0.01)"), None);
    }

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

    #[test]
    fn only_three_letters_in_a_row_are_indexable() {
        assert!(indexable("abc") && indexable("夏目漱石") && indexable("a, Zoë"));
        assert!(!indexable("山路") && !indexable("a b c") && !indexable("%_\\") && !indexable(""));
    }

    /// The snippet with `[` and `]` for the markers.
    fn shown(text: &str, needles: &[&str]) -> Option<String> {
        snippet(text, needles).map(|raw| raw.replace(MATCH_START, "[").replace(MATCH_END, "]"))
    }

    #[test]
    fn snippets_mark_every_needle_ignoring_case_and_diacritics() {
        assert_eq!(
            shown("The White Rabbit, the rabbit-hole", &["rabbit", "WHITE"]).unwrap(),
            "The [White] [Rabbit], the [rabbit]-hole"
        );
        assert_eq!(shown("Über alles", &["uber"]).unwrap(), "[Über] alles");
        assert_eq!(shown("zoe et Zoë", &["ZOË"]).unwrap(), "[zoe] et [Zoë]");
        // A decomposed letter is matched whole, with its mark.
        assert_eq!(shown("Zoe\u{308}!", &["zoe"]).unwrap(), "[Zoe\u{308}]!");
        assert_eq!(
            shown("山路を登りながら", &["山路"]).unwrap(),
            "[山路]を登りながら"
        );
        // Overlapping matches of two needles make one mark.
        assert_eq!(shown("abcdef", &["abcd", "cdef"]).unwrap(), "[abcdef]");
        assert_eq!(shown("abc", &["x"]), None);
        assert_eq!(shown("abc", &[""]), None);
        // The text's own marker characters are not markers.
        assert_eq!(shown("a\u{1}b\u{2} cat", &["cat"]).unwrap(), "ab [cat]");
    }

    #[test]
    fn snippets_keep_a_window_with_the_most_needles() {
        let long = format!("{}needle{}", "a".repeat(100), "b".repeat(300));
        let cut = shown(&long, &["needle"]).unwrap();
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("[needle]"));
        assert_eq!(cut.chars().count(), 2 + 60 + 6 + 140 + 2);
        // "white" alone early, both words together later: the later window shows both.
        let text = format!("white {} white rabbit", "x".repeat(400));
        let cut = shown(&text, &["white", "rabbit"]).unwrap();
        assert!(cut.ends_with("[white] [rabbit]"), "{cut}");
        // Never inside a character: multi-byte text is cut at characters.
        let cjk = "漱".repeat(300) + "山路" + &"石".repeat(300);
        let cut = shown(&cjk, &["山路"]).unwrap();
        assert!(cut.contains("[山路]") && cut.starts_with("…漱"));
    }
}
