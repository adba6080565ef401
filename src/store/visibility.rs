//! The one place that decides who may read what: books by access level, and annotations by
//! DESIGN.md's rule ("What a request may see"). Every query that returns books or
//! annotations builds its WHERE clause from these fragments, so the rule lives in SQL.
//!
//! Fragments take the SQL placeholders that hold the viewer: `viewer` is the user id (`''`
//! for an anonymous reader) and `role` the viewer's role (`''` when anonymous).

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

/// DESIGN.md's rule for one annotation row `a`, except the clause for replies (which
/// [`visible_cte`] adds by walking threads from their roots): the viewer's own note; a note
/// shared with a group the viewer is a member of now; a public note. A note hidden by
/// moderation stays visible only to its author and to its moderators (the group's owner and
/// facilitators; admins for public notes).
pub fn annotation_rule(a: &str, viewer: &str, role: &str) -> String {
    format!(
        "({a}.author_id = {viewer} \
          OR ({a}.audience = 'public' AND ({a}.hidden = FALSE OR {role} = 'admin')) \
          OR ({a}.audience = 'group' AND EXISTS ( \
                SELECT 1 FROM memberships gm \
                WHERE gm.group_id = {a}.group_id AND gm.user_id = {viewer} \
                  AND ({a}.hidden = FALSE OR gm.role IN ('owner', 'facilitator')))))"
    )
}

/// A recursive CTE `visible(id)`: every annotation the viewer may read whose thread root
/// matches `roots` (a condition on the root row `a`). A reply is reached only through the
/// note it answers, so it is never visible to anyone who cannot see that note.
pub fn visible_cte(roots: &str, viewer: &str, role: &str) -> String {
    let rule = annotation_rule("a", viewer, role);
    let readable = book_readable("b", viewer, role);
    format!(
        "visible(id) AS ( \
            SELECT a.id FROM annotations a JOIN books b ON b.id = a.book_id \
            WHERE a.reply_to IS NULL AND {roots} AND {readable} AND {rule} \
          UNION ALL \
            SELECT a.id FROM annotations a JOIN visible v ON a.reply_to = v.id WHERE {rule})"
    )
}

/// The reader's margin preference as a filter on visible rows `a`; it only ever narrows.
/// Their own notes always pass. `margin` is 'none' | 'groups' | 'everyone'; with
/// `reading_first`, others' notes on a passage pass only once the viewer has a note there or
/// has revealed the passage. Muted authors never pass, except on notes they anonymized: a
/// mute must not become a way to learn whose those are.
pub fn margin_filter(a: &str, viewer: &str, margin: &str, reading_first: &str) -> String {
    format!(
        "({a}.author_id = {viewer} OR ( \
            ({margin} = 'everyone' OR ({margin} = 'groups' AND {a}.audience = 'group')) \
            AND ({a}.anonymous = TRUE OR NOT EXISTS ( \
                SELECT 1 FROM mutes mu WHERE mu.user_id = {viewer} AND mu.muted_id = {a}.author_id)) \
            AND ({reading_first} = FALSE \
                 OR EXISTS (SELECT 1 FROM annotations mine \
                            WHERE mine.book_id = {a}.book_id AND mine.passage_id = {a}.passage_id \
                              AND mine.author_id = {viewer} AND mine.deleted = FALSE) \
                 OR EXISTS (SELECT 1 FROM reveals rv \
                            WHERE rv.user_id = {viewer} AND rv.book_id = {a}.book_id \
                              AND rv.passage_id = {a}.passage_id))))"
    )
}

/// True when the viewer moderates annotation row `a`: the owner and facilitators of the group
/// a group note is shared with, and admins for public notes. Private notes have no moderator:
/// nobody but their author may read them, so nobody else may act on them.
pub fn moderated_by(a: &str, viewer: &str, role: &str) -> String {
    format!(
        "(({a}.audience = 'group' AND EXISTS ( \
                SELECT 1 FROM memberships mm \
                WHERE mm.group_id = {a}.group_id AND mm.user_id = {viewer} \
                  AND mm.role IN ('owner', 'facilitator'))) \
          OR ({a}.audience = 'public' AND {role} = 'admin'))"
    )
}
