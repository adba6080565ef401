//! What a note is, as written and as read: its audience, a listing's row and filter, a new
//! note and an author's edit.

use serde::Deserialize;
use uuid::Uuid;

use crate::store::preferences::MarginMode;
use crate::store::users::User;

/// Who may read a note, as its author chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Private,
    Group(Uuid),
    Public,
}

impl Audience {
    pub fn kind(&self) -> &'static str {
        match self {
            Audience::Private => "private",
            Audience::Group(_) => "group",
            Audience::Public => "public",
        }
    }

    pub fn group(&self) -> Option<Uuid> {
        match self {
            Audience::Group(id) => Some(*id),
            _ => None,
        }
    }

    /// Whether everyone who may read `self` may also read `wider` (for replies).
    pub fn within(&self, wider: &Audience) -> bool {
        match (self, wider) {
            (Audience::Private, _) | (_, Audience::Public) => true,
            (Audience::Group(a), Audience::Group(b)) => a == b,
            _ => false,
        }
    }

    fn from_row(kind: &str, group: Option<&str>) -> Self {
        match (kind, group.and_then(|g| g.parse().ok())) {
            ("public", _) => Audience::Public,
            ("group", Some(group)) => Audience::Group(group),
            _ => Audience::Private,
        }
    }
}

/// The margin a listing applies after the rule: the reader's preference for the book (its
/// override, else their account's, else the default), with its mode replaced by `asked` when
/// the request names one. Resolved before the listing's query, so that query reads only the
/// sets of notes the margin draws from (`access.rs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReaderMargin {
    pub asked: Option<MarginMode>,
}

/// Which of DESIGN.md's readers a query answers, which decides the rule's form.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// One note by id for a write or a check, or the author's export: the rule with its
    /// exception for authors.
    Rule,
    /// One note by id as a reader asks for it: also after their "my reading first", as a
    /// listing would show it.
    Read,
    /// A book's listing, counts or search: the book must be readable, then the margin.
    Margin(ReaderMargin),
}

/// One note as a listing reads it: a row from PostgreSQL, or on SQLite an array of these
/// fields in this order ([`FIELDS`](super::listing::FIELDS)) within one JSON value per page
/// ([`Dialect::json_page`](crate::store::dialect::Dialect::json_page)).
#[derive(Debug, Clone, sqlx::FromRow, Deserialize)]
pub struct AnnotationRow {
    pub id: String,
    pub book_id: String,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub passage_id: String,
    pub chapter: i64,
    pub ordinal: i64,
    pub start_pos: i64,
    pub end_pos: i64,
    pub exact: String,
    pub prefix: String,
    pub suffix: String,
    pub cfi: String,
    pub motivation: String,
    pub body: Option<String>,
    pub body_html: Option<String>,
    pub tags: String,
    pub color: Option<String>,
    pub audience: String,
    pub group_id: Option<String>,
    pub reply_to: Option<String>,
    #[serde(deserialize_with = "flag")]
    pub hidden: bool,
    #[serde(deserialize_with = "flag")]
    pub deleted: bool,
    #[serde(deserialize_with = "flag")]
    pub anonymous: bool,
    #[serde(deserialize_with = "flag")]
    pub written_blind: bool,
    /// Whether the author lets others see `written_blind` (never on an anonymized note: whose
    /// preference it follows would narrow down whose note it is).
    #[serde(deserialize_with = "flag")]
    pub shows_written_blind: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub replies: i64,
}

impl AnnotationRow {
    pub fn audience(&self) -> Audience {
        Audience::from_row(&self.audience, self.group_id.as_deref())
    }

    pub fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    pub fn is_by(&self, user: &User) -> bool {
        self.author_id.as_deref() == Some(user.id.to_string().as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Newest,
    Reading,
}

/// What to list, besides "what the viewer may see on this book".
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub chapter: Option<i64>,
    pub passage: Option<String>,
    pub tag: Option<String>,
    pub author: Option<Uuid>,
    /// "private", "public", "group", or a group id.
    pub audience: Option<String>,
    pub motivation: Option<String>,
    /// Words to find in the body, tags or quote.
    pub text: Option<String>,
    pub id: Option<Uuid>,
    /// Only the viewer's own notes that still have words: anonymized ones included (they
    /// are still the viewer's), tombstones not (they keep nothing of the viewer's).
    pub mine: bool,
    pub order: Order,
    /// The position after which the page starts: `(created_at, id)` for newest-first,
    /// `(chapter, ordinal, start, created_at, id)` for reading order, as
    /// [`cursor_of`](super::cursor_of) makes.
    pub after: Option<Vec<serde_json::Value>>,
    pub limit: i64,
}

/// A flag in SQLite's JSON: SQLite has no boolean type, so `1` or `0`.
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(u8::deserialize(deserializer)? != 0)
}

/// A new annotation, validated by the caller.
#[derive(Debug, Clone)]
pub struct NewAnnotation {
    pub book_id: Uuid,
    pub passage_id: String,
    pub chapter: i64,
    pub ordinal: i64,
    pub start: i64,
    pub end: i64,
    pub exact: String,
    pub prefix: String,
    pub suffix: String,
    pub cfi: String,
    pub motivation: String,
    pub body: Option<String>,
    pub tags: Vec<String>,
    pub color: Option<String>,
    pub audience: Audience,
    pub reply_to: Option<Uuid>,
    pub written_blind: bool,
}

/// The fields an author may change.
#[derive(Debug, Clone, Default)]
pub struct AnnotationEdit {
    pub body: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub color: Option<Option<String>>,
    pub audience: Option<Audience>,
    pub motivation: Option<String>,
}
