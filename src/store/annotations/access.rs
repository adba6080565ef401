//! Where a margin's notes are read from. The notes a reader may see on a chapter are the union
//! of a few narrow sets: their own, each of their groups', and the public ones. Each set is a
//! range of one index on the chapter in newest-first order (the public ones in reading order
//! too; migration 0009), so a listing or a count reads the sets the reader's margin draws from
//! and never the notes it cannot show.
//!
//! The sets only choose which rows are read: every row still passes the whole rule and the
//! margin of [`crate::store::visibility`], so what is shown is decided there alone.

use uuid::Uuid;

use crate::store::preferences::{Margin, MarginMode};
use crate::store::users::User;
use crate::store::{Sql, Store};

use super::types::ReaderMargin;

/// A reader's margin on one book, resolved before the query that lists or counts it, so
/// that query names only the sets the margin draws from.
#[derive(Debug, Clone)]
pub(super) struct ResolvedMargin {
    pub margin: Margin,
    /// The groups the reader is a member of, when their margin shows groups' notes.
    pub groups: Vec<String>,
}

impl ResolvedMargin {
    /// The margin's mode as an SQL literal, for the rule's margin filter: the planner folds
    /// the conditions a literal decides, which it cannot do for a placeholder's value.
    pub fn mode_sql(&self) -> String {
        format!("'{}'", self.margin.margin.as_str())
    }

    /// "My reading first" as an SQL literal.
    pub fn reading_first_sql(&self) -> &'static str {
        if self.margin.my_reading_first {
            "TRUE"
        } else {
            "FALSE"
        }
    }
}

/// One set a margin draws from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NoteSet {
    /// The reader's own notes.
    Own,
    /// Others' notes shared with one of the reader's groups.
    Group(String),
    /// Others' public notes.
    Public,
}

impl NoteSet {
    /// The sets `margin` draws from for `viewer` (`None` when anonymous).
    pub fn of(viewer: Option<&User>, margin: &ResolvedMargin) -> Vec<NoteSet> {
        let mut sets = Vec::new();
        if viewer.is_some() {
            sets.push(NoteSet::Own);
        }
        if margin.margin.margin != MarginMode::None {
            sets.extend(margin.groups.iter().cloned().map(NoteSet::Group));
        }
        if margin.margin.margin == MarginMode::Everyone {
            sets.push(NoteSet::Public);
        }
        sets
    }

    /// The rows `s` of this set. `viewer` and `book` are placeholders; with `opened_only`,
    /// others' notes are read only on the passages the viewer has opened (by a note of their
    /// own or a reveal), as "my reading first" shows them.
    pub fn rows(&self, sql: &mut Sql, viewer: &str, book: &str, opened_only: bool) -> Within {
        // Tombstones have no author: they are others' notes to everyone.
        let others = format!("(s.author_id IS NULL OR s.author_id <> {viewer})");
        let condition = match self {
            NoteSet::Own => return Within::table(format!("s.author_id = {viewer}")),
            NoteSet::Group(group) => format!(
                "s.group_id = {} AND s.audience = 'group' AND {others}",
                sql.arg(group.as_str())
            ),
            // The literal matches the partial index's condition, which a placeholder would not.
            NoteSet::Public => format!("s.audience = 'public' AND {others}"),
        };
        if !opened_only {
            return Within::table(condition);
        }
        // The opened passages first (CROSS JOIN keeps that order on SQLite), each read by
        // the passage index: the notes waiting on the others are never read.
        Within {
            from: format!(
                "({}) op CROSS JOIN annotations s",
                opened_passages(viewer, book)
            ),
            condition: format!("s.passage_id = op.passage_id AND {condition}"),
        }
    }
}

/// Where a set's rows `s` come from, and the condition that picks them.
pub(super) struct Within {
    pub from: String,
    pub condition: String,
}

impl Within {
    fn table(condition: String) -> Self {
        Within {
            from: "annotations s".to_owned(),
            condition,
        }
    }
}

/// SQL: the passages of `book` on which the viewer has opened others' notes, by a note of
/// their own or a reveal.
pub(super) fn opened_passages(viewer: &str, book: &str) -> String {
    format!(
        "SELECT mine.passage_id FROM annotations mine \
         WHERE mine.author_id = {viewer} AND mine.book_id = {book} AND mine.deleted = FALSE \
         UNION SELECT rv.passage_id FROM reveals rv \
         WHERE rv.user_id = {viewer} AND rv.book_id = {book}"
    )
}

impl Store {
    /// The margin `viewer` reads `book` with: the mode they asked for, else their stored
    /// preference; anonymous visitors read with the mode asked for and nothing stored. The
    /// reader's groups are looked up `with_groups` only: a query that does not read the sets
    /// (one note by id, a search) has no use for them.
    pub(super) async fn resolve_margin(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        asked: ReaderMargin,
        with_groups: bool,
    ) -> sqlx::Result<ResolvedMargin> {
        let Some(user) = viewer else {
            let margin = Margin {
                margin: asked.asked.unwrap_or_default(),
                my_reading_first: false,
            };
            return Ok(ResolvedMargin {
                margin,
                groups: Vec::new(),
            });
        };
        let stored = self.effective_margin(user.id, book).await?;
        let margin = Margin {
            margin: asked.asked.unwrap_or(stored.margin),
            ..stored
        };
        let groups = if with_groups && margin.margin != MarginMode::None {
            let sql = "SELECT group_id FROM memberships WHERE user_id = $1 ORDER BY group_id";
            self.db
                .scalars(Sql::new(sql).bind(user.id.to_string()))
                .await?
        } else {
            Vec::new()
        };
        Ok(ResolvedMargin { margin, groups })
    }

    /// The passages of `book` on which `viewer` has opened others' notes under "my reading
    /// first".
    pub(super) async fn opened_passages(
        &self,
        viewer: &User,
        book: Uuid,
    ) -> sqlx::Result<Vec<String>> {
        let sql = opened_passages("$1", "$2");
        self.db
            .scalars(
                Sql::new(sql)
                    .bind(viewer.id.to_string())
                    .bind(book.to_string()),
            )
            .await
    }
}
