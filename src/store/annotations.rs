//! Marginalia: notes, highlights, bookmarks and replies, always read through the visibility
//! rule in [`super::visibility`].

use serde::Deserialize;
use uuid::Uuid;

use super::group_commit::NoteRow;
use super::preferences::stored_preference;
pub use super::preferences::{Margin, MarginMode};
use super::users::User;
use super::visibility::viewer_binds;
use super::visibility::{
    ReadError, annotation_readable, annotation_rule, annotation_visible, margin_filter, own_note,
    reading_first_filter, thread_open_below, tombstone_stands,
};
use super::{Sql, Store, now_micros};

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
/// the request names one. Resolved inside the listing's own query, which saves a round trip
/// on the hottest request (BENCHMARKS.md, "Annotations").
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
/// fields in this order ([`FIELDS`]) within one JSON value per page ([`json_page`]).
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
    /// `(chapter, ordinal, start, created_at, id)` for reading order, as [`cursor_of`] makes.
    pub after: Option<Vec<serde_json::Value>>,
    pub limit: i64,
}

/// The cursor of a row under `order`.
pub fn cursor_of(row: &AnnotationRow, order: Order) -> Vec<serde_json::Value> {
    use serde_json::json;
    match order {
        Order::Newest => vec![json!(row.created_at), json!(row.id)],
        Order::Reading => vec![
            json!(row.chapter),
            json!(row.ordinal),
            json!(row.start_pos),
            json!(row.created_at),
            json!(row.id),
        ],
    }
}

/// The author's name by a lookup per row returned, not a join: PostgreSQL's estimate for
/// the rule's many conditions is a row or two, and for that few it would scan `users`
/// instead of its primary key (BENCHMARKS.md, "Annotations").
const COLUMNS: &str = "s.id, s.book_id, s.author_id, \
    CASE WHEN s.anonymous THEN NULL \
         ELSE (SELECT u.display_name FROM users u WHERE u.id = s.author_id) END AS author_name, \
    s.passage_id, s.chapter, s.ordinal, s.start_pos, s.end_pos, s.exact, s.prefix, s.suffix, s.cfi, \
    s.motivation, s.body, s.body_html, s.tags, s.color, s.audience, s.group_id, s.reply_to, \
    s.hidden, s.deleted, s.anonymous, s.written_blind, \
    (s.anonymous = FALSE AND EXISTS (SELECT 1 FROM preferences wb \
        WHERE wb.user_id = s.author_id AND wb.book_id = '' AND wb.show_written_blind = TRUE)) \
        AS shows_written_blind, \
    s.created_at, s.updated_at";

/// [`AnnotationRow`]'s fields in its order: [`COLUMNS`], then the count of visible replies.
const FIELDS: &str = "s.id, s.book_id, s.author_id, s.author_name, s.passage_id, s.chapter, \
    s.ordinal, s.start_pos, s.end_pos, s.exact, s.prefix, s.suffix, s.cfi, s.motivation, s.body, \
    s.body_html, s.tags, s.color, s.audience, s.group_id, s.reply_to, s.hidden, s.deleted, \
    s.anonymous, s.written_blind, s.shows_written_blind, s.created_at, s.updated_at, s.replies";

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

impl Store {
    /// A page of the margin `viewer` reads on `book`: the notes the rule lets them see, after
    /// their margin choice. [`ReadError::NotReadable`] when they may not read the book.
    pub async fn margin(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        filter: &ListFilter,
        margin: ReaderMargin,
    ) -> Result<Vec<AnnotationRow>, ReadError> {
        let rows = self
            .annotations(viewer, book, filter, Scope::Margin(margin))
            .await?;
        // Notes on a page prove the book readable (the rule asks it of each); no notes do not.
        if rows.is_empty() {
            self.ensure_readable(viewer, book).await?;
        }
        Ok(rows)
    }

    /// A page of `author`'s own notes on `book`, wherever they are shared and whether or not
    /// the book is still readable to them (DESIGN.md's exception for authors), for an export.
    pub async fn own_notes(
        &self,
        author: &User,
        book: Uuid,
        filter: &ListFilter,
    ) -> sqlx::Result<Vec<AnnotationRow>> {
        let filter = ListFilter {
            mine: true,
            ..filter.clone()
        };
        self.annotations(Some(author), book, &filter, Scope::Rule)
            .await
    }

    /// The annotations on `book` that `viewer` may see in `scope`. A listing's page is empty
    /// when the viewer may not read the book: the rule asks that of every note but the
    /// author's own, which a listing asks too.
    async fn annotations(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        filter: &ListFilter,
        scope: Scope,
    ) -> sqlx::Result<Vec<AnnotationRow>> {
        let mut sql = Sql::default();
        let book = sql.arg(book.to_string());
        let shown = Shown::new(&mut sql, viewer, &book, scope);
        let mut conditions = vec![format!("s.book_id = {book}"), shown.condition("s", &book)];
        if let Some(chapter) = filter.chapter {
            conditions.push(format!("s.chapter = {}", sql.arg(chapter)));
        }
        if let Some(passage) = &filter.passage {
            conditions.push(format!("s.passage_id = {}", sql.arg(passage.as_str())));
        }
        if let Some(tag) = &filter.tag {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM annotation_tags t WHERE t.annotation_id = s.id AND t.tag = {})",
                sql.arg(tag.as_str())
            ));
        }
        if let Some(author) = filter.author {
            conditions.push(format!(
                "s.author_id = {} AND s.anonymous = FALSE",
                sql.arg(author.to_string())
            ));
        }
        if let Some(audience) = &filter.audience {
            let condition = match audience.as_str() {
                kind @ ("private" | "public" | "group") => {
                    format!("s.audience = {}", sql.arg(kind))
                }
                group => format!("s.group_id = {}", sql.arg(group)),
            };
            conditions.push(condition);
        }
        if let Some(motivation) = &filter.motivation {
            conditions.push(format!("s.motivation = {}", sql.arg(motivation.as_str())));
        }
        if let Some(text) = &filter.text {
            // The database lowers both sides alike (SQLite's LOWER only folds ASCII, so
            // lowering the pattern in Rust would miss "Über" when asked for "Über"). Tags are
            // matched one by one, not in their JSON text, whose brackets, quotes and commas
            // would match queries like `[`.
            let pattern = sql.arg(format!("%{}%", super::escape_like(text)));
            conditions.push(format!(
                "s.deleted = FALSE AND (LOWER(COALESCE(s.body, '')) LIKE LOWER({pattern}) ESCAPE '\\' \
                 OR LOWER(s.exact) LIKE LOWER({pattern}) ESCAPE '\\' \
                 OR EXISTS (SELECT 1 FROM annotation_tags t WHERE t.annotation_id = s.id \
                            AND LOWER(t.tag) LIKE LOWER({pattern}) ESCAPE '\\'))"
            ));
        }
        if let Some(id) = filter.id {
            conditions.push(format!("s.id = {}", sql.arg(id.to_string())));
        }
        if filter.mine {
            let me = viewer.map(|v| v.id.to_string()).unwrap_or_default();
            conditions.push(format!(
                "s.author_id = {} AND s.deleted = FALSE",
                sql.arg(me)
            ));
        }
        let order = match filter.order {
            Order::Newest => "s.created_at DESC, s.id DESC",
            Order::Reading => "s.chapter, s.ordinal, s.start_pos, s.created_at, s.id",
        };
        if let Some(after) = &filter.after {
            conditions.push(after_condition(&mut sql, filter.order, after));
        }
        let limit = sql.arg(filter.limit);
        // A reply is visible when the note it answers is, and `s` is: the rule for the reply
        // itself and the margin are all that is left to decide.
        let replies = shown.reply_condition("r", "s", &book);
        sql.text = format!(
            "SELECT {COLUMNS}, \
                (SELECT COUNT(*) FROM annotations r WHERE r.reply_to = s.id AND {replies}) AS replies \
             FROM annotations s WHERE {} ORDER BY {order} LIMIT {limit}",
            conditions.join(" AND ")
        );
        match self.dialect.json_page(&sql.text, FIELDS) {
            Some(text) => {
                sql.text = text;
                let page: String = self.db.scalar(sql).await?;
                json_page(&page, filter.order)
            }
            None => self.db.fetch_all(sql).await,
        }
    }

    /// How many notes the viewer's margin shows on each passage of a chapter.
    /// [`ReadError::NotReadable`] when they may not read the book.
    pub async fn annotation_counts(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        chapter: Option<i64>,
        margin: ReaderMargin,
    ) -> Result<Vec<(String, i64, i64)>, ReadError> {
        let book_id = book;
        let mut sql = Sql::default();
        let book = sql.arg(book.to_string());
        let shown = Shown::new(&mut sql, viewer, &book, Scope::Margin(margin));
        // What the margin would show without "my reading first", split by whether it passes.
        // (A NULL — an authorless note — does not pass, as in the listing's WHERE.)
        let passes = shown.reading_first("s");
        let shown = shown.without_reading_first().condition("s", &book);
        let mut scope = format!("s.book_id = {book}");
        if let Some(chapter) = chapter {
            scope.push_str(&format!(" AND s.chapter = {}", sql.arg(chapter)));
        }
        sql.text = format!(
            "SELECT s.passage_id, SUM(CASE WHEN {passes} THEN 1 ELSE 0 END) AS n, \
                    SUM(CASE WHEN {passes} THEN 0 ELSE 1 END) AS waiting \
             FROM annotations s WHERE {scope} AND {shown} \
             GROUP BY s.passage_id ORDER BY s.passage_id"
        );
        let counts: Vec<(String, i64, i64)> = self.db.fetch_all(sql).await?;
        // As for a listing: counts come only from notes on a readable book.
        if counts.is_empty() {
            self.ensure_readable(viewer, book_id).await?;
        }
        Ok(counts)
    }

    /// One annotation by id, if the viewer may read it (the rule with its exception for
    /// authors; see [`Scope::Rule`]).
    pub async fn annotation(
        &self,
        viewer: Option<&User>,
        id: Uuid,
    ) -> sqlx::Result<Option<AnnotationRow>> {
        self.annotation_in(viewer, id, Scope::Rule).await
    }

    /// One annotation by id in `scope`, if the viewer may see it there.
    pub async fn annotation_in(
        &self,
        viewer: Option<&User>,
        id: Uuid,
        scope: Scope,
    ) -> sqlx::Result<Option<AnnotationRow>> {
        match self.annotation_book(id).await? {
            Some(book) => self.annotation_on(viewer, book, id, scope).await,
            None => Ok(None),
        }
    }

    /// One annotation on a known book by id, if the viewer may see it in `scope`.
    pub async fn annotation_on(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        id: Uuid,
        scope: Scope,
    ) -> sqlx::Result<Option<AnnotationRow>> {
        let filter = ListFilter {
            id: Some(id),
            limit: 1,
            ..ListFilter::default()
        };
        Ok(self
            .annotations(viewer, book, &filter, scope)
            .await?
            .into_iter()
            .next())
    }

    /// The book an annotation is on, whoever may see it (for routing a lookup only).
    async fn annotation_book(&self, id: Uuid) -> sqlx::Result<Option<Uuid>> {
        let sql = "SELECT book_id FROM annotations WHERE id = $1";
        let book: Option<String> = self
            .db
            .scalar_optional(Sql::new(sql).bind(id.to_string()))
            .await?;
        Ok(book.and_then(|book| book.parse().ok()))
    }

    /// Stores a new note by `author` and returns its id, once it is committed.
    pub async fn insert_annotation(&self, author: Uuid, new: NewAnnotation) -> sqlx::Result<Uuid> {
        let id = Uuid::now_v7();
        let row = NoteRow {
            id,
            author,
            body_html: new.body.as_deref().map(crate::markdown::render),
            tags_json: serde_json::to_string(&new.tags).unwrap_or_else(|_| "[]".into()),
            created_at: now_micros(),
            note: new,
        };
        self.notes.insert(row).await?;
        Ok(id)
    }

    /// Applies an author's edit; `created_at` never changes, `updated_at` does.
    pub async fn update_annotation(&self, id: Uuid, edit: &AnnotationEdit) -> sqlx::Result<()> {
        let mut sql = Sql::default();
        let mut sets = vec![format!("updated_at = {}", sql.arg(now_micros()))];
        if let Some(body) = &edit.body {
            let html = body.as_deref().map(crate::markdown::render);
            match (body, html) {
                (Some(body), Some(html)) => {
                    sets.push(format!("body = {}", sql.arg(body.as_str())));
                    sets.push(format!("body_html = {}", sql.arg(html)));
                }
                _ => sets.push("body = NULL, body_html = NULL".to_owned()),
            }
        }
        if let Some(tags) = &edit.tags {
            let json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
            sets.push(format!("tags = {}", sql.arg(json)));
        }
        if let Some(color) = &edit.color {
            match color {
                Some(color) => sets.push(format!("color = {}", sql.arg(color.as_str()))),
                None => sets.push("color = NULL".to_owned()),
            }
        }
        if let Some(audience) = &edit.audience {
            sets.push(format!("audience = {}", sql.arg(audience.kind())));
            match audience.group() {
                Some(group) => sets.push(format!("group_id = {}", sql.arg(group.to_string()))),
                None => sets.push("group_id = NULL".to_owned()),
            }
        }
        if let Some(motivation) = &edit.motivation {
            sets.push(format!("motivation = {}", sql.arg(motivation.as_str())));
        }
        sql.text = format!(
            "UPDATE annotations SET {} WHERE id = {}",
            sets.join(", "),
            sql.arg(id.to_string())
        );
        let tags = edit.tags.clone();
        let mut tx = self.db.begin().await?;
        tx.execute(sql).await?;
        if let Some(tags) = &tags {
            tx.execute(
                Sql::new("DELETE FROM annotation_tags WHERE annotation_id = $1")
                    .bind(id.to_string()),
            )
            .await?;
            for tag in tags {
                tx.execute(
                    Sql::new("INSERT INTO annotation_tags (annotation_id, tag) VALUES ($1, $2)")
                        .bind(id.to_string())
                        .bind(tag),
                )
                .await?;
            }
        }
        tx.commit().await
    }

    /// Deletes a note; one with replies becomes a tombstone that keeps no words of its author
    /// and names nobody, so the thread stays together.
    pub async fn delete_annotation(&self, id: Uuid) -> sqlx::Result<()> {
        let id = id.to_string();
        let mut tx = self.db.begin().await?;
        let replies: i64 = tx
            .scalar(Sql::new("SELECT COUNT(*) FROM annotations WHERE reply_to = $1").bind(&id))
            .await?;
        if replies > 0 {
            tx.execute(
                Sql::new(
                    "UPDATE annotations SET deleted = TRUE, body = NULL, body_html = NULL,
                         tags = '[]', color = NULL, author_id = NULL, anonymous = TRUE,
                         updated_at = $2 WHERE id = $1",
                )
                .bind(&id)
                .bind(now_micros()),
            )
            .await?;
            tx.execute(Sql::new("DELETE FROM annotation_tags WHERE annotation_id = $1").bind(&id))
                .await?;
        } else {
            tx.execute(Sql::new("DELETE FROM annotations WHERE id = $1").bind(&id))
                .await?;
        }
        tx.commit().await
    }

    /// Whether `user` has a note of their own on a passage, or has revealed it.
    pub async fn has_seen_passage(
        &self,
        user: Uuid,
        book: Uuid,
        passage: &str,
    ) -> sqlx::Result<bool> {
        let sql = "SELECT
                (SELECT COUNT(*) FROM annotations WHERE author_id = $1 AND book_id = $2
                     AND passage_id = $3 AND deleted = FALSE)
              + (SELECT COUNT(*) FROM reveals WHERE user_id = $1 AND book_id = $2 AND passage_id = $3)";
        let n: i64 = self
            .db
            .scalar(
                Sql::new(sql)
                    .bind(user.to_string())
                    .bind(book.to_string())
                    .bind(passage),
            )
            .await?;
        Ok(n > 0)
    }

    /// Records that the reader chose to see others' notes on a passage.
    pub async fn reveal_passage(&self, user: Uuid, book: Uuid, passage: &str) -> sqlx::Result<()> {
        let sql = "INSERT INTO reveals (user_id, book_id, passage_id) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING";
        self.db
            .execute(
                Sql::new(sql)
                    .bind(user.to_string())
                    .bind(book.to_string())
                    .bind(passage),
            )
            .await
            .map(|_| ())
    }
}

/// Runs a listing's `sql` on SQLite, whose driver hands every value of every row from the
/// connection's thread to the caller's one by one: the page is aggregated into one JSON value
/// instead, which saves about a quarter of a listing's instructions there (PostgreSQL streams
/// rows over its protocol, where the same aggregate costs more than it saves; BENCHMARKS.md,
/// "Annotations").
/// An aggregate keeps no order of its own, so the page is put back in the listing's.
/// A page of rows decoded from one JSON array of [`FIELDS`], put back in the page's order
/// (JSON aggregation does not keep it).
fn json_page(page: &str, order: Order) -> sqlx::Result<Vec<AnnotationRow>> {
    let mut rows: Vec<AnnotationRow> =
        serde_json::from_str(page).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    match order {
        Order::Newest => {
            rows.sort_unstable_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)))
        }
        Order::Reading => rows.sort_unstable_by(|a, b| {
            (a.chapter, a.ordinal, a.start_pos, a.created_at, &a.id).cmp(&(
                b.chapter,
                b.ordinal,
                b.start_pos,
                b.created_at,
                &b.id,
            ))
        }),
    }
    Ok(rows)
}

/// What a query shows in its [`Scope`]: the visibility rule in the scope's form, then the
/// reader's margin or "my reading first".
struct Shown {
    viewer: String,
    role: String,
    scope: ShownScope,
}

enum ShownScope {
    Rule,
    /// The SQL boolean of the viewer's "my reading first" on the book.
    Read(String),
    /// The SQL of the margin mode, and of "my reading first".
    Margin(String, String),
}

impl Shown {
    /// `book` is the placeholder of the query's book, whose preference applies.
    fn new(sql: &mut Sql, viewer: Option<&User>, book: &str, scope: Scope) -> Self {
        let (viewer_id, role) = viewer_binds(viewer);
        let viewer = sql.arg(viewer_id);
        let role = sql.arg(role);
        let stored = |column| stored_preference(column, &viewer, book);
        let first = format!("COALESCE({}, FALSE)", stored("my_reading_first"));
        let scope = match scope {
            Scope::Rule => ShownScope::Rule,
            Scope::Read => ShownScope::Read(first),
            Scope::Margin(margin) => {
                let mode = match margin.asked {
                    Some(asked) => sql.arg(asked.as_str()),
                    None => format!(
                        "COALESCE({}, {})",
                        stored("margin"),
                        sql.arg(MarginMode::default().as_str())
                    ),
                };
                ShownScope::Margin(mode, first)
            }
        };
        Shown {
            viewer,
            role,
            scope,
        }
    }

    /// Row `a`, a note on book `book` (a placeholder), is shown.
    fn condition(&self, a: &str, book: &str) -> String {
        match &self.scope {
            ShownScope::Margin(..) => {
                let visible = annotation_visible(a, book, &self.viewer, &self.role);
                format!("{visible} AND {}", self.preference(a))
            }
            ShownScope::Rule | ShownScope::Read(_) => {
                let readable = annotation_readable(a, book, &self.viewer, &self.role);
                format!("{readable} AND {}", self.preference(a))
            }
        }
    }

    /// Row `a`, a reply to `parent`, a shown note on book `book`, is shown: the viewer's own
    /// reply always, others' replies when the rule itself shows the thread.
    fn reply_condition(&self, a: &str, parent: &str, book: &str) -> String {
        let own = own_note(a, &self.viewer);
        let rule = annotation_rule(a, &self.viewer, &self.role);
        let stands = tombstone_stands(a, &self.viewer, &self.role);
        let open = thread_open_below(parent, book, &self.viewer, &self.role);
        format!(
            "({own} OR ({rule} AND {stands} AND {} AND {open}))",
            self.preference(a)
        )
    }

    /// Row `a` passes the viewer's "my reading first" (always, when it is off, and for their
    /// own notes).
    fn reading_first(&self, a: &str) -> String {
        match &self.scope {
            ShownScope::Rule => "TRUE".to_owned(),
            ShownScope::Read(first) | ShownScope::Margin(_, first) => format!(
                "({} OR {})",
                own_note(a, &self.viewer),
                reading_first_filter(a, &self.viewer, first)
            ),
        }
    }

    /// The same, as if the viewer's "my reading first" were off.
    fn without_reading_first(self) -> Self {
        let scope = match self.scope {
            ShownScope::Margin(mode, _) => ShownScope::Margin(mode, "FALSE".to_owned()),
            ShownScope::Read(_) => ShownScope::Read("FALSE".to_owned()),
            ShownScope::Rule => ShownScope::Rule,
        };
        Shown { scope, ..self }
    }

    fn preference(&self, a: &str) -> String {
        match &self.scope {
            ShownScope::Rule => "TRUE".to_owned(),
            ShownScope::Read(first) => {
                let own = own_note(a, &self.viewer);
                format!(
                    "({own} OR {})",
                    reading_first_filter(a, &self.viewer, first)
                )
            }
            ShownScope::Margin(mode, first) => margin_filter(a, &self.viewer, mode, first),
        }
    }
}

/// The keyset condition for the page after `after` under `order`.
fn after_condition(sql: &mut Sql, order: Order, after: &[serde_json::Value]) -> String {
    let int = |i: usize| after.get(i).and_then(|v| v.as_i64()).unwrap_or_default();
    let text = |i: usize| {
        after
            .get(i)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    match order {
        Order::Newest => format!(
            "(s.created_at, s.id) < ({}, {})",
            sql.arg(int(0)),
            sql.arg(text(1))
        ),
        Order::Reading => format!(
            "(s.chapter, s.ordinal, s.start_pos, s.created_at, s.id) > ({}, {}, {}, {}, {})",
            sql.arg(int(0)),
            sql.arg(int(1)),
            sql.arg(int(2)),
            sql.arg(int(3)),
            sql.arg(text(4))
        ),
    }
}
