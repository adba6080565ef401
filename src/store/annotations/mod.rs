//! Marginalia: notes, highlights, bookmarks and replies, always read through the visibility
//! rule in [`super::visibility`].

mod access;
mod group_commit;
mod listing;
mod types;
mod writes;

pub(super) use group_commit::NoteWriter;
pub use listing::cursor_of;
pub use types::{
    AnnotationEdit, AnnotationRow, Audience, ListFilter, NewAnnotation, Order, ReaderMargin, Scope,
};
