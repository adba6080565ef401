//! Reading notes: a book's margin, an author's own notes, counts per passage and one note by
//! id, each through the visibility rule in [`crate::store::visibility`].

use std::collections::HashSet;

use uuid::Uuid;

use super::access::{NoteSet, ResolvedMargin};
use super::types::{AnnotationRow, ListFilter, Order, ReaderMargin, Scope};
use crate::store::dialect::{Dialect, Searched};
use crate::store::preferences::{Margin, stored_preference};
use crate::store::search::{contains_pattern, indexable};
use crate::store::users::User;
use crate::store::visibility::{
    ReadError, annotation_readable, annotation_rule, annotation_visible, margin_filter, own_note,
    reading_first_filter, thread_open_below, tombstone_stands, viewer_binds,
};
use crate::store::{Sql, Store};

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
        let resolved = self
            .resolve(viewer, book, scope, reads_sets(filter))
            .await?;
        let text_by_index = match filter.text.as_deref() {
            Some(text) if indexable(text) => {
                self.reaches_by_index(Searched::Notes, &[text]).await?
            }
            _ => false,
        };
        let Some(mut sql) =
            listing_sql(self.dialect, viewer, book, filter, &resolved, text_by_index)
        else {
            return Ok(Vec::new());
        };
        match self.dialect.json_page(&sql.text, FIELDS) {
            Some(text) => {
                sql.text = text;
                let page: String = self.db.scalar(sql).await?;
                json_page(&page, filter.order)
            }
            None if reads_sets(filter) => self.db.fetch_all_planned_once(sql).await,
            None => self.db.fetch_all(sql).await,
        }
    }

    /// `scope` with the margin it names resolved: the reader's stored choice, and their
    /// groups `with_groups` ([`Store::resolve_margin`]).
    async fn resolve(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        scope: Scope,
        with_groups: bool,
    ) -> sqlx::Result<Resolved> {
        Ok(match scope {
            Scope::Rule => Resolved::Rule,
            Scope::Read => Resolved::Read,
            Scope::Margin(asked) => Resolved::Margin(
                self.resolve_margin(viewer, book, asked, with_groups)
                    .await?,
            ),
        })
    }

    /// How many notes the viewer's margin shows on each passage of a chapter, and how many
    /// more wait behind their "my reading first". [`ReadError::NotReadable`] when they may not
    /// read the book.
    pub async fn annotation_counts(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        chapter: Option<i64>,
        margin: ReaderMargin,
    ) -> Result<Vec<(String, i64, i64)>, ReadError> {
        let resolved = self.resolve_margin(viewer, book, margin, true).await?;
        let counts: Vec<(String, i64, i64)> = match counts_sql(viewer, book, chapter, &resolved) {
            Some(sql) => self.db.fetch_all_planned_once(sql).await?,
            None => Vec::new(),
        };
        // As for a listing: counts come only from notes on a readable book.
        if counts.is_empty() {
            self.ensure_readable(viewer, book).await?;
            return Ok(counts);
        }
        // "My reading first" is decided per passage: others' notes show on the passages the
        // viewer has opened, and wait on the others; their own notes always show.
        let reading_first = resolved.margin.my_reading_first;
        let opened: HashSet<String> = match viewer {
            Some(user) if reading_first => self
                .opened_passages(user, book)
                .await?
                .into_iter()
                .collect(),
            _ => HashSet::new(),
        };
        Ok(counts
            .into_iter()
            .map(|(passage, total, own)| {
                let shown = if !reading_first || opened.contains(&passage) {
                    total
                } else {
                    own
                };
                (passage, shown, total - shown)
            })
            .collect())
    }

    /// The queries a chapter's margin runs for `viewer`: the first page of its listing
    /// newest first, and its counts (for the benchmark's check of their plans).
    pub(in crate::store) async fn margin_queries(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        chapter: i64,
        margin: ReaderMargin,
    ) -> sqlx::Result<Vec<Sql>> {
        let resolved = self.resolve_margin(viewer, book, margin, true).await?;
        let filter = ListFilter {
            chapter: Some(chapter),
            limit: 51,
            ..ListFilter::default()
        };
        let listing = listing_sql(
            self.dialect,
            viewer,
            book,
            &filter,
            &Resolved::Margin(resolved.clone()),
            false,
        );
        let counts = counts_sql(viewer, book, Some(chapter), &resolved);
        Ok(listing.into_iter().chain(counts).collect())
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
}

/// The query of a page of `filter` in `resolved`; `None` when the margin draws from no set
/// of notes (an anonymous visitor's margin of groups). `text_by_index`: the text searched
/// for is found by the trigram index, else along the book ([`Store::reaches_by_index`]).
fn listing_sql(
    dialect: &dyn Dialect,
    viewer: Option<&User>,
    book: Uuid,
    filter: &ListFilter,
    resolved: &Resolved,
    text_by_index: bool,
) -> Option<Sql> {
    let mut sql = Sql::default();
    let book = sql.arg(book.to_string());
    let shown = Shown::new(&mut sql, viewer, &book, resolved);
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
    let mut from = "annotations s".to_owned();
    if let Some(text) = &filter.text {
        conditions.push("s.deleted = FALSE".to_owned());
        if text_by_index {
            let found = dialect.notes_matching(&mut sql, &book, text);
            from = found.from;
            conditions.push(found.condition);
        } else {
            // Too short for a trigram, or in too many notes of the library: the notes of this
            // one book in the listing's order, matched one by one until a page.
            // The database lowers both sides alike (SQLite's LOWER only folds ASCII, so
            // lowering the pattern in Rust would miss "Über" when asked for "Über"); no
            // trigram index serves LOWER(…), so PostgreSQL cannot pick one that would
            // scan itself whole for a pattern it holds no trigram of. Tags are matched
            // one by one, not in their JSON text, whose brackets, quotes and commas would
            // match queries like `[`: counted per note, as PostgreSQL would answer an EXISTS
            // here from a hash of every matching tag of the library, built first.
            let pattern = sql.arg(contains_pattern(text));
            conditions.push(format!(
                "(LOWER(COALESCE(s.body, '')) LIKE LOWER({pattern}) ESCAPE '\\' \
                 OR LOWER(s.exact) LIKE LOWER({pattern}) ESCAPE '\\' \
                 OR (SELECT COUNT(*) FROM annotation_tags t WHERE t.annotation_id = s.id \
                     AND LOWER(t.tag) LIKE LOWER({pattern}) ESCAPE '\\') > 0)"
            ));
        }
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
    let order = order_by("s", filter.order);
    if let Some(after) = &filter.after {
        conditions.push(after_condition(&mut sql, filter.order, after));
    }
    let conditions = conditions.join(" AND ");
    let limit = sql.arg(filter.limit);
    // A reply is visible when the note it answers is, and `s` is: the rule for the reply
    // itself and the margin are all that is left to decide.
    let replies = shown.reply_condition("r", "s", &book);
    let columns = format!(
        "{COLUMNS}, \
         (SELECT COUNT(*) FROM annotations r WHERE r.reply_to = s.id AND {replies}) AS replies"
    );
    // A margin's page is read from the sets its margin draws from, each set's first page
    // in the listing's order, and the best of those.
    let sets = match resolved {
        Resolved::Margin(margin) if reads_sets(filter) => {
            Some((NoteSet::of(viewer, margin), margin.margin.my_reading_first))
        }
        _ => None,
    };
    sql.text = match sets {
        None => format!(
            "SELECT {columns} FROM {from} WHERE {conditions} ORDER BY {order} LIMIT {limit}"
        ),
        Some((sets, _)) if sets.is_empty() => return None,
        Some((sets, opened_only)) => {
            let keys = order_keys(filter.order)
                .iter()
                .map(|key| format!("s.{key}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut pages = Vec::with_capacity(sets.len());
            for set in &sets {
                let within = set.rows(&mut sql, &shown.viewer, &book, opened_only);
                // Others' notes on opened passages are few: they are sorted, and the sum
                // keeps PostgreSQL from walking the chapter's notes in index order instead,
                // in the hope of meeting an opened passage soon.
                let order = match (opened_only, set) {
                    (true, NoteSet::Group(_) | NoteSet::Public) => {
                        order_by_sorting("s", filter.order)
                    }
                    _ => order.clone(),
                };
                pages.push(format!(
                    "SELECT p.* FROM (SELECT {keys} FROM {} WHERE {} AND {conditions} \
                     ORDER BY {order} LIMIT {limit}) p",
                    within.from, within.condition
                ));
            }
            // The sets are disjoint (own notes, each group's, the public ones), so no note
            // comes twice. The page is chosen among their pages by id and order alone; only
            // then are its notes read by their key and their columns (the replies' count
            // among them) computed, for the page's rows and not for every set's.
            format!(
                "SELECT {columns} FROM (SELECT u.id FROM ({}) u ORDER BY {} LIMIT {limit}) page \
                 CROSS JOIN annotations s WHERE s.id = page.id ORDER BY {order} LIMIT {limit}",
                pages.join(" UNION ALL "),
                order_by("u", filter.order)
            )
        }
    };
    Some(sql)
}

/// Whether a margin's listing of `filter` reads the sets the margin draws from: one note by
/// id, and a search, have narrower paths of their own.
fn reads_sets(filter: &ListFilter) -> bool {
    filter.id.is_none() && filter.text.is_none()
}

/// The query counting, per passage of `chapter`, the notes `resolved` would show were "my
/// reading first" off, and how many of them are the viewer's own; `None` when the margin
/// draws from no set of notes.
fn counts_sql(
    viewer: Option<&User>,
    book: Uuid,
    chapter: Option<i64>,
    resolved: &ResolvedMargin,
) -> Option<Sql> {
    let sets = NoteSet::of(viewer, resolved);
    if sets.is_empty() {
        return None;
    }
    // Others' notes waiting behind "my reading first" are counted too, and told apart by
    // the passages the viewer has opened (`annotation_counts`).
    let unopened = ResolvedMargin {
        margin: Margin {
            my_reading_first: false,
            ..resolved.margin
        },
        ..resolved.clone()
    };
    let mut sql = Sql::default();
    let book = sql.arg(book.to_string());
    let shown = Shown::new(&mut sql, viewer, &book, &Resolved::Margin(unopened));
    let mut scope = format!("s.book_id = {book}");
    if let Some(chapter) = chapter {
        scope.push_str(&format!(" AND s.chapter = {}", sql.arg(chapter)));
    }
    let condition = shown.condition("s", &book);
    let mut notes = Vec::with_capacity(sets.len());
    for set in &sets {
        let own = u8::from(*set == NoteSet::Own);
        let within = set.rows(&mut sql, &shown.viewer, &book, false);
        notes.push(format!(
            "SELECT s.passage_id, {own} AS own FROM {} WHERE {} AND {scope} AND {condition}",
            within.from, within.condition
        ));
    }
    sql.text = format!(
        "SELECT c.passage_id, COUNT(*), SUM(c.own) FROM ({}) c \
         GROUP BY c.passage_id ORDER BY c.passage_id",
        notes.join(" UNION ALL ")
    );
    Some(sql)
}

/// A page of rows decoded from one JSON array of [`FIELDS`], as SQLite's dialect fetches a
/// listing (its driver hands over every value of every row one by one, from the connection's
/// thread; BENCHMARKS.md, "Annotations"), put back in the listing's order, which the
/// aggregate does not keep.
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

/// A [`Scope`] with the margin it names resolved.
enum Resolved {
    Rule,
    Read,
    Margin(ResolvedMargin),
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
    /// The margin mode and "my reading first", as SQL literals.
    Margin(String, String),
}

impl Shown {
    /// `book` is the placeholder of the query's book, whose preference applies.
    fn new(sql: &mut Sql, viewer: Option<&User>, book: &str, resolved: &Resolved) -> Self {
        let (viewer_id, role) = viewer_binds(viewer);
        let viewer = sql.arg(viewer_id);
        let role = sql.arg(role);
        let scope = match resolved {
            Resolved::Rule => ShownScope::Rule,
            Resolved::Read => ShownScope::Read(format!(
                "COALESCE({}, FALSE)",
                stored_preference("my_reading_first", &viewer, book)
            )),
            Resolved::Margin(margin) => {
                ShownScope::Margin(margin.mode_sql(), margin.reading_first_sql().to_owned())
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

/// The columns a listing is ordered by under `order`, first to last.
fn order_keys(order: Order) -> &'static [&'static str] {
    match order {
        Order::Newest => &["created_at", "id"],
        Order::Reading => &["chapter", "ordinal", "start_pos", "created_at", "id"],
    }
}

/// The `ORDER BY` list of a listing under `order`, on the rows of `alias`.
fn order_by(alias: &str, order: Order) -> String {
    let direction = match order {
        Order::Newest => " DESC",
        Order::Reading => "",
    };
    order_keys(order)
        .iter()
        .map(|key| format!("{alias}.{key}{direction}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`order_by`] led by an expression no index is in the order of, so the rows are sorted.
fn order_by_sorting(alias: &str, order: Order) -> String {
    let keys = order_by(alias, order);
    let first = order_keys(order)[0];
    keys.replacen(
        &format!("{alias}.{first}"),
        &format!("{alias}.{first} + 0"),
        1,
    )
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
