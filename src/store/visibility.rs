//! The one place that decides who may read what: books by access level, and annotations by
//! DESIGN.md's rule ("What a request may see"). Every query that returns books or
//! annotations builds its WHERE clause from these fragments, so the rule lives in SQL.
//!
//! Fragments take the SQL placeholders that hold the viewer: `viewer` is the user id (`''`
//! for an anonymous reader) and `role` the viewer's role (`''` when anonymous).

use uuid::Uuid;

use super::users::User;
use super::{Sql, Store};

/// The binds that name the viewer in the rule's fragments: their id and role, both empty
/// for an anonymous reader.
pub fn viewer_binds(viewer: Option<&User>) -> (String, &'static str) {
    match viewer {
        Some(user) => (user.id.to_string(), user.role.as_str()),
        None => (String::new(), ""),
    }
}

/// A read refused as a whole. The API answers it as it answers a book that does not exist,
/// so whether a hidden book exists does not leak.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("book not found")]
    NotReadable,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Store {
    /// Whether `viewer` may read `book` ([`book_readable`]).
    pub async fn may_read(&self, viewer: Option<&User>, book: Uuid) -> sqlx::Result<bool> {
        let (viewer_id, role) = viewer_binds(viewer);
        let sql = format!(
            "SELECT COUNT(*) FROM books b WHERE b.id = $1 AND {}",
            book_readable("b", "$2", "$3")
        );
        let found: i64 = self
            .db
            .scalar(Sql::new(sql).bind(book).bind(viewer_id).bind(role))
            .await?;
        Ok(found > 0)
    }

    pub(super) async fn ensure_readable(
        &self,
        viewer: Option<&User>,
        book: Uuid,
    ) -> Result<(), ReadError> {
        match self.may_read(viewer, book).await? {
            true => Ok(()),
            false => Err(ReadError::NotReadable),
        }
    }
}

/// True when the viewer may read book `book` (a `books` row alias): public books for
/// everyone, signed-in books for any account, group books for members of a listed group,
/// and every book for librarians and admins, who manage the catalogue.
pub fn book_readable(book: &str, viewer: &str, role: &str) -> String {
    format!(
        "({book}.access = 'public' \
          OR ({viewer} <> '' AND {book}.access = 'signed_in') \
          OR {role} IN ('librarian', 'admin') \
          OR ({book}.access = 'groups' AND EXISTS ( \
                SELECT 1 FROM book_groups bg JOIN memberships bm ON bm.group_id = bg.group_id \
                WHERE bg.book_id = {book}.id AND bm.user_id = {viewer})))"
    )
}

/// DESIGN.md's rule for one annotation row `a`, except the clauses for its book and its
/// thread (which [`annotation_visible`] adds): the viewer's own note; a note
/// shared with a group the viewer is a member of now; a public note. A note hidden by
/// moderation stays visible only to its author and to its moderators (the group's owner and
/// facilitators; admins for public notes).
///
/// The group clauses ask for the viewer's groups without naming the row, so the database
/// computes that set once per query and probes it for each row.
pub fn annotation_rule(a: &str, viewer: &str, role: &str) -> String {
    format!(
        "({a}.author_id = {viewer} \
          OR ({a}.audience = 'public' AND ({a}.hidden = FALSE OR {role} = 'admin')) \
          OR ({a}.audience = 'group' AND {a}.hidden = FALSE AND {a}.group_id IN ( \
                SELECT gm.group_id FROM memberships gm WHERE gm.user_id = {viewer})) \
          OR ({a}.audience = 'group' AND {a}.hidden = TRUE AND {a}.group_id IN ( \
                SELECT gm.group_id FROM memberships gm \
                WHERE gm.user_id = {viewer} AND gm.role IN ('owner', 'facilitator'))))"
    )
}

/// A tombstone (a note deleted while it had replies, keeping none of its words) stands only
/// for the thread below it: row `a` passes when it is no tombstone, or when a note below it
/// that still has words passes [`annotation_rule`] through every note between them. Else
/// the tombstone would tell its reader that replies they may not read exist.
///
/// The caller checks `a` itself and the notes above it.
pub fn tombstone_stands(a: &str, viewer: &str, role: &str) -> String {
    let rule = annotation_rule("dn", viewer, role);
    format!(
        "({a}.deleted = FALSE OR EXISTS ( \
            WITH RECURSIVE below(id, deleted) AS ( \
                SELECT dn.id, dn.deleted FROM annotations dn \
                WHERE dn.reply_to = {a}.id AND {rule} \
              UNION ALL \
                SELECT dn.id, dn.deleted FROM annotations dn JOIN below ON dn.reply_to = below.id \
                WHERE {rule}) \
            SELECT 1 FROM below WHERE below.deleted = FALSE))"
    )
}

/// DESIGN.md's rule, whole, for annotation row `a`, without its exception for authors: its
/// book is readable, the note passes [`annotation_rule`], and so does every note above it in
/// its thread, so a reply is never visible to anyone who cannot see the note it answers; a
/// tombstone passes only while it [stands](tombstone_stands) for a note below it the viewer
/// may read. Decided row by row (ancestors by a short recursive walk up `reply_to`), a
/// listing can walk an index in its own order and stop after a page instead of deciding
/// every note of the book first (BENCHMARKS.md).
///
/// `book` is the row's book id: a placeholder when the query is about one book (checked
/// once), else `{a}.book_id`.
pub fn thread_visible(a: &str, book: &str, viewer: &str, role: &str) -> String {
    rule_with(a, book, viewer, role, "FALSE")
}

/// What a book's listings, counts and search may show of row `a`: DESIGN.md's rule with its
/// exception for authors, whose own notes show on any book they may read, also when the
/// note they answered is hidden or gone.
pub fn annotation_visible(a: &str, book: &str, viewer: &str, role: &str) -> String {
    rule_with(a, book, viewer, role, &own_note(a, viewer))
}

/// The rule of [`thread_visible`] where the thread above `a` (and what stands below a
/// tombstone) is not asked of rows passing `exempt`. Own notes pass [`annotation_rule`]
/// already, so exempting them keeps the rule's shape (and its plans; BENCHMARKS.md).
fn rule_with(a: &str, book: &str, viewer: &str, role: &str, exempt: &str) -> String {
    let readable = book_readable("vb", viewer, role);
    let rule = annotation_rule(a, viewer, role);
    let ancestor_rule = annotation_rule("up", viewer, role);
    let stands = tombstone_stands(a, viewer, role);
    // `IS NOT TRUE`: a rule that is NULL (a deleted author) must count as failing.
    format!(
        "(EXISTS (SELECT 1 FROM books vb WHERE vb.id = {book} AND {readable}) \
          AND {rule} \
          AND ({exempt} OR ({stands} \
          AND ({a}.reply_to IS NULL OR NOT EXISTS ( \
                WITH RECURSIVE above(id) AS ( \
                    SELECT {a}.reply_to \
                  UNION ALL \
                    SELECT up.reply_to FROM annotations up JOIN above ON up.id = above.id \
                    WHERE up.reply_to IS NOT NULL) \
                SELECT 1 FROM above JOIN annotations up ON up.id = above.id \
                WHERE ({ancestor_rule}) IS NOT TRUE)))))"
    )
}

/// Row `a` is the viewer's own note. Tombstones have no author, so none is anyone's.
pub fn own_note(a: &str, viewer: &str) -> String {
    format!("({a}.author_id = {viewer})")
}

/// What a request for one note by id (and its author's export) may read of row `a`:
/// DESIGN.md's rule with its whole exception, so that nobody loses their own words: the
/// author reads their note also after losing the book or the group.
pub fn annotation_readable(a: &str, book: &str, viewer: &str, role: &str) -> String {
    let own = own_note(a, viewer);
    let thread = thread_visible(a, book, viewer, role);
    format!("({own} OR {thread})")
}

/// Others' replies below row `s`, a note shown to the viewer, are shown only when `s` is
/// shown by the rule itself and not only because it is the viewer's own: an own reply under
/// a hidden note must not open the thread below it to its author.
pub fn thread_open_below(s: &str, book: &str, viewer: &str, role: &str) -> String {
    let thread = thread_visible(s, book, viewer, role);
    format!("(COALESCE({s}.author_id, '') <> {viewer} OR {thread})")
}

/// With "my reading first" (`reading_first`, an SQL boolean), others' notes on a passage
/// pass only once the viewer has a note of their own there or has revealed the passage.
pub fn reading_first_filter(a: &str, viewer: &str, reading_first: &str) -> String {
    format!(
        "({reading_first} = FALSE \
             OR EXISTS (SELECT 1 FROM annotations mine \
                        WHERE mine.book_id = {a}.book_id AND mine.passage_id = {a}.passage_id \
                          AND mine.author_id = {viewer} AND mine.deleted = FALSE) \
             OR EXISTS (SELECT 1 FROM reveals rv \
                        WHERE rv.user_id = {viewer} AND rv.book_id = {a}.book_id \
                          AND rv.passage_id = {a}.passage_id))"
    )
}

/// The reader's margin preference as a filter on visible rows `a`; it only ever narrows.
/// Their own notes always pass. `margin` is 'none' | 'groups' | 'everyone'; with
/// `reading_first`, others' notes on a passage pass only once the viewer has a note there or
/// has revealed the passage. Muted authors never pass, except on notes they anonymized: a
/// mute must not become a way to learn whose those are.
pub fn margin_filter(a: &str, viewer: &str, margin: &str, reading_first: &str) -> String {
    let first = reading_first_filter(a, viewer, reading_first);
    format!(
        "({a}.author_id = {viewer} OR ( \
            ({margin} = 'everyone' OR ({margin} = 'groups' AND {a}.audience = 'group')) \
            AND ({a}.anonymous = TRUE OR {a}.author_id IS NULL OR {a}.author_id NOT IN ( \
                SELECT mu.muted_id FROM mutes mu WHERE mu.user_id = {viewer})) \
            AND {first}))"
    )
}

/// True when the viewer moderates annotation row `a`: the owner and facilitators of the group
/// a group note is shared with, and admins for public notes. Private notes have no moderator:
/// nobody but their author may read them, so nobody else may act on them. Nobody moderates
/// their own notes: they would judge reports about themselves.
pub fn moderated_by(a: &str, viewer: &str, role: &str) -> String {
    format!(
        "(COALESCE({a}.author_id, '') <> {viewer} AND ( \
            ({a}.audience = 'group' AND EXISTS ( \
                SELECT 1 FROM memberships mm \
                WHERE mm.group_id = {a}.group_id AND mm.user_id = {viewer} \
                  AND mm.role IN ('owner', 'facilitator'))) \
            OR ({a}.audience = 'public' AND {role} = 'admin')))"
    )
}
