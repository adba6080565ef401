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
