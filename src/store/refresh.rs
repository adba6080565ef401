//! Bringing books stored by an earlier importer up to today's sanitizer and passage rule.
//!
//! A book records the [`CONTENT_VERSION`] its chapters were made by. At start-up every older
//! book is sanitized again from what is stored (the EPUB itself is not kept): its chapters
//! through the tree sanitizer, its resources by today's rules. Passages keep their ids and
//! CFIs, so notes stay on them; a passage whose text changed (ruby readings no longer count)
//! has its notes' offsets carried over to the new text.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::{Sql, Store};
use crate::epub::{self, Book, ContentHash};

/// Version 2: chapters sanitized as the browser's tree, passage texts without ruby readings,
/// only resources a reader needs.
pub const CONTENT_VERSION: i64 = 2;

/// What a stored book becomes.
struct Refreshed {
    chapters: Vec<(i64, String)>,
    /// Passages whose text changed: `(id, text)`.
    passages: Vec<(String, String)>,
    /// Notes whose anchor moved: `(id, start, end, exact)`.
    notes: Vec<(String, i64, i64, String)>,
    resources: Vec<(String, Option<Vec<u8>>)>,
    content_hash: String,
}

impl Store {
    /// Sanitizes again every book stored by an earlier importer; returns how many there were.
    /// A book that cannot be brought up to date is logged and left as it was.
    pub async fn refresh_stored_books(&self) -> anyhow::Result<usize> {
        let sql = "SELECT id FROM books WHERE content_version < $1";
        let ids: Vec<String> = self.db.scalars(Sql::new(sql).bind(CONTENT_VERSION)).await?;
        for id in &ids {
            match self.refreshed(id).await? {
                Ok(refreshed) => self.store_refreshed(id, refreshed).await?,
                Err(err) => tracing::warn!(book = %id, error = %err, "book not sanitized again"),
            }
        }
        Ok(ids.len())
    }

    async fn refreshed(&self, id: &str) -> anyhow::Result<Result<Refreshed, epub::EpubError>> {
        let chapters: Vec<(i64, String, String)> = self
            .db
            .fetch_all(
                Sql::new("SELECT idx, href, html FROM chapters WHERE book_id = $1 ORDER BY idx")
                    .bind(id),
            )
            .await?;
        let passages: Vec<(String, String)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT id, text FROM passages WHERE book_id = $1 ORDER BY chapter, ordinal",
                )
                .bind(id),
            )
            .await?;
        let resources: Vec<(String, String, Vec<u8>)> = self
            .db
            .fetch_all(
                Sql::new("SELECT path, media_type, data FROM resources WHERE book_id = $1")
                    .bind(id),
            )
            .await?;
        let notes: Vec<(String, String, i64, i64, String)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT id, passage_id, start_pos, end_pos, exact FROM annotations WHERE book_id = $1",
                )
                .bind(id),
            )
            .await?;

        let book = Book {
            base: format!("/api/books/{id}"),
            chapters: chapters
                .iter()
                .map(|(idx, href, _)| (href.clone(), *idx as usize))
                .collect(),
            resources: resources
                .iter()
                .filter(|(_, media_type, _)| epub::serves(media_type))
                .map(|(path, ..)| path.clone())
                .collect(),
        };
        let mut new_texts = HashMap::new();
        let mut new_chapters = Vec::with_capacity(chapters.len());
        for (idx, href, html) in &chapters {
            let (html, texts) = match epub::refresh_chapter(html, href, &book) {
                Ok(done) => done,
                Err(err) => return Ok(Err(err)),
            };
            new_chapters.push((*idx, html));
            new_texts.extend(texts);
        }
        let mut hash = ContentHash::default();
        let mut changed = Vec::new();
        for (passage, old) in &passages {
            let text = new_texts.get(passage).unwrap_or(old);
            hash.add(text);
            if text != old {
                changed.push((passage.clone(), text.clone()));
            }
        }
        let old_texts: HashMap<&str, &str> = passages
            .iter()
            .map(|(id, text)| (id.as_str(), text.as_str()))
            .collect();
        let changed_texts: HashMap<&str, (&str, &str)> = changed
            .iter()
            .map(|(passage, new)| {
                (
                    passage.as_str(),
                    (old_texts[passage.as_str()], new.as_str()),
                )
            })
            .collect();
        let moved = notes
            .into_iter()
            .filter_map(|(note, passage, start, end, exact)| {
                let (old, new) = changed_texts.get(passage.as_str())?;
                let carried = carry_over(old, new, start, end, &exact);
                if carried.is_none() {
                    tracing::warn!(%note, %passage, "a note's quote is not in its passage's new text");
                }
                let (start, end, exact) = carried?;
                Some((note, start, end, exact))
            })
            .collect();
        let resources = resources
            .into_iter()
            .map(|(path, media_type, data)| {
                let served = epub::refresh_resource(&media_type, data, &path, &book);
                (path, served)
            })
            .collect();
        Ok(Ok(Refreshed {
            chapters: new_chapters,
            passages: changed,
            notes: moved,
            resources,
            content_hash: hash.finish(),
        }))
    }

    async fn store_refreshed(&self, id: &str, refreshed: Refreshed) -> sqlx::Result<()> {
        let mut tx = self.db.begin().await?;
        for (idx, html) in refreshed.chapters {
            tx.execute(
                Sql::new("UPDATE chapters SET html = $3 WHERE book_id = $1 AND idx = $2")
                    .bind(id)
                    .bind(idx)
                    .bind(html),
            )
            .await?;
        }
        for (passage, text) in refreshed.passages {
            let fingerprint = hex::encode(&Sha256::digest(text.as_bytes())[..8]);
            tx.execute(
                Sql::new(
                    "UPDATE passages SET text = $3, fingerprint = $4 WHERE book_id = $1 AND id = $2",
                )
                .bind(id)
                .bind(passage)
                .bind(text)
                .bind(fingerprint),
            )
            .await?;
        }
        for (note, start, end, exact) in refreshed.notes {
            tx.execute(
                Sql::new(
                    "UPDATE annotations SET start_pos = $2, end_pos = $3, exact = $4 WHERE id = $1",
                )
                .bind(note)
                .bind(start)
                .bind(end)
                .bind(exact),
            )
            .await?;
        }
        for (path, data) in refreshed.resources {
            match data {
                Some(data) => {
                    let sha256 = hex::encode(Sha256::digest(&data));
                    tx.execute(
                        Sql::new(
                            "UPDATE resources SET data = $3, sha256 = $4 WHERE book_id = $1 AND path = $2",
                        )
                        .bind(id)
                        .bind(path)
                        .bind(data)
                        .bind(sha256),
                    )
                    .await?
                }
                None => {
                    tx.execute(
                        Sql::new("DELETE FROM resources WHERE book_id = $1 AND path = $2")
                            .bind(id)
                            .bind(path),
                    )
                    .await?
                }
            };
        }
        // The hash tells duplicates apart; a clash with another book keeps the old one.
        let clash: Option<String> = tx
            .scalar_optional(
                Sql::new("SELECT id FROM books WHERE content_hash = $1 AND id <> $2")
                    .bind(&refreshed.content_hash)
                    .bind(id),
            )
            .await?;
        if clash.is_none() {
            tx.execute(
                Sql::new("UPDATE books SET content_hash = $2 WHERE id = $1")
                    .bind(id)
                    .bind(refreshed.content_hash),
            )
            .await?;
        }
        tx.execute(
            Sql::new("UPDATE books SET content_version = $2 WHERE id = $1")
                .bind(id)
                .bind(CONTENT_VERSION),
        )
        .await?;
        tx.commit().await
    }
}

/// A note's anchor `start..end` (code points) on `old`, carried to `new`: the same characters
/// where `new` is `old` with characters left out (ruby readings), else the quote found anew
/// nearest where it was. `None` when neither finds it; the note then keeps its anchor.
fn carry_over(
    old: &str,
    new: &str,
    start: i64,
    end: i64,
    exact: &str,
) -> Option<(i64, i64, String)> {
    let old: Vec<char> = old.chars().collect();
    let new: Vec<char> = new.chars().collect();
    // For each old character, where it is in `new`, if it stayed.
    let mut position = vec![None; old.len()];
    let mut j = 0;
    for (i, c) in old.iter().enumerate() {
        if j < new.len() && new[j] == *c {
            position[i] = Some(j);
            j += 1;
        }
    }
    let (start, end) = (start.max(0) as usize, (end.max(0) as usize).min(old.len()));
    if j == new.len() && start < end {
        let first = position[start..end].iter().flatten().next().copied();
        let last = position[start..end].iter().flatten().next_back().copied();
        if let (Some(first), Some(last)) = (first, last) {
            let exact: String = new[first..=last].iter().collect();
            return Some((first as i64, last as i64 + 1, exact));
        }
    }
    let text: String = new.iter().collect();
    let found = text
        .match_indices(exact)
        .map(|(at, _)| text[..at].chars().count())
        .min_by_key(|at| at.abs_diff(start))?;
    Some((
        found as i64,
        (found + exact.chars().count()) as i64,
        exact.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::carry_over;

    #[test]
    fn anchors_follow_the_characters_that_stayed() {
        let old = "山路やまみちを登りながら";
        let new = "山路を登りながら";
        // "山路やまみち" (0..6) becomes "山路"; "登り" (7..9) moves to 3..5.
        assert_eq!(
            carry_over(old, new, 0, 6, "山路やまみち"),
            Some((0, 2, "山路".into()))
        );
        assert_eq!(
            carry_over(old, new, 7, 9, "登り"),
            Some((3, 5, "登り".into()))
        );
        // Only a reading selected: nothing of it stayed; the quote is not there either.
        assert_eq!(carry_over(old, new, 2, 6, "やまみち"), None);
        // Not a subsequence: the quote is found again.
        assert_eq!(
            carry_over("a b c", "c b a", 4, 5, "c"),
            Some((0, 1, "c".into()))
        );
    }
}
