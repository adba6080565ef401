//! Raw queries for the integration tests and the benchmark, which check and seed what the
//! HTTP API does not show (a stored hash, a million notes). Not for the service: its code
//! goes through the store's own methods, which apply the visibility rule.

use uuid::Uuid;

use super::annotations::ReaderMargin;
use super::db::{Row, Value};
use super::users::User;
use super::{Bind, Db, Sql, Store, Tx};

/// The store's database, for tests and benchmarks ([`Store::raw`]).
pub struct Raw<'a>(&'a Db);

impl Store {
    #[doc(hidden)]
    pub fn raw(&self) -> Raw<'_> {
        Raw(&self.db)
    }
}

impl Raw<'_> {
    pub fn is_sqlite(&self) -> bool {
        matches!(self.0, Db::Sqlite(_))
    }

    pub async fn begin(&self) -> sqlx::Result<Tx> {
        self.0.begin().await
    }

    pub async fn execute(&self, sql: Sql) -> sqlx::Result<u64> {
        self.0.execute(sql).await
    }

    pub async fn fetch_all<T: Row>(&self, sql: Sql) -> sqlx::Result<Vec<T>> {
        self.0.fetch_all(sql).await
    }

    pub async fn fetch_one<T: Row>(&self, sql: Sql) -> sqlx::Result<T> {
        self.0.fetch_one(sql).await
    }

    pub async fn scalar<T: Value>(&self, sql: Sql) -> sqlx::Result<T> {
        self.0.scalar(sql).await
    }

    pub async fn scalar_optional<T: Value>(&self, sql: Sql) -> sqlx::Result<Option<T>> {
        self.0.scalar_optional(sql).await
    }

    pub async fn scalars<T: Value>(&self, sql: Sql) -> sqlx::Result<Vec<T>> {
        self.0.scalars(sql).await
    }
}

impl Store {
    /// The plans the database chooses for what a chapter's margin runs (its listing's first
    /// page and its counts; `Store::margin_queries`), one text per query: EXPLAIN QUERY PLAN's
    /// lines on SQLite, EXPLAIN's of the generic plan on PostgreSQL. The benchmark checks
    /// them for a walk of the whole chapter.
    #[doc(hidden)]
    pub async fn margin_plans(
        &self,
        viewer: Option<&User>,
        book: Uuid,
        chapter: i64,
        margin: ReaderMargin,
    ) -> sqlx::Result<Vec<String>> {
        let mut plans = Vec::new();
        for mut sql in self.margin_queries(viewer, book, chapter, margin).await? {
            let lines: Vec<String> = if self.raw().is_sqlite() {
                sql.text = format!("EXPLAIN QUERY PLAN {}", sql.text);
                let rows: Vec<(i64, i64, i64, String)> = self.db.fetch_all(sql).await?;
                rows.into_iter().map(|(.., detail)| detail).collect()
            } else {
                // PostgreSQL runs these by their generic plan (`Db::fetch_all_planned_once`),
                // which EXPLAIN of the statement itself would not show: it would plan the
                // values in. The prepared statement's EXPLAIN EXECUTE shows the one that runs.
                // By the simple protocol: in the extended one PREPARE's `$n` would be taken
                // for the protocol's own parameters, and EXECUTE's arguments cannot be those.
                let mut tx = self.db.begin().await?;
                let Tx::Postgres(conn) = &mut tx else {
                    unreachable!("a PostgreSQL store's transaction");
                };
                let values: Vec<String> = sql.binds.iter().map(Bind::literal).collect();
                let explain = format!(
                    "SET LOCAL plan_cache_mode = force_generic_plan; \
                     PREPARE margin_plan AS {}; \
                     EXPLAIN EXECUTE margin_plan({}); \
                     DEALLOCATE margin_plan",
                    sql.text,
                    values.join(", ")
                );
                let rows = sqlx::raw_sql(&explain).fetch_all(&mut **conn).await?;
                let lines = rows
                    .iter()
                    .map(|row| sqlx::Row::try_get(row, 0))
                    .collect::<sqlx::Result<Vec<String>>>()?;
                tx.commit().await?;
                lines
            };
            plans.push(lines.join("\n"));
        }
        Ok(plans)
    }
}

impl Bind {
    /// The value as an SQL literal, for a statement that cannot bind it.
    fn literal(&self) -> String {
        let text = |value: &str| format!("'{}'", value.replace('\'', "''"));
        match self {
            Bind::Text(Some(value)) => text(value),
            Bind::Int(Some(value)) => value.to_string(),
            Bind::Bool(Some(value)) => value.to_string(),
            Bind::Bytes(Some(value)) => text(&format!("\\x{}", hex::encode(value))),
            Bind::Text(None) | Bind::Int(None) | Bind::Bool(None) | Bind::Bytes(None) => {
                "NULL".to_owned()
            }
        }
    }
}

/// Rows for one multi-row INSERT, as the benchmark's seeder writes a million notes in a few
/// thousand statements.
pub struct Rows {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub values: Vec<Vec<Bind>>,
}

impl Tx {
    /// Inserts the rows in one statement, with the placeholders the store's own batch
    /// inserts use ([`Tx::batch_arg`]).
    pub async fn insert_rows(&mut self, rows: Rows) -> sqlx::Result<u64> {
        let mut sql = Sql::new(format!(
            "INSERT INTO {} ({}) VALUES ",
            rows.table,
            rows.columns.join(", ")
        ));
        let mut tuples = Vec::with_capacity(rows.values.len());
        for row in rows.values {
            assert_eq!(row.len(), rows.columns.len(), "a row of {}", rows.table);
            let places: Vec<String> = row
                .into_iter()
                .map(|v| self.batch_arg(&mut sql, v))
                .collect();
            tuples.push(format!("({})", places.join(", ")));
        }
        sql.text.push_str(&tuples.join(", "));
        self.execute(sql).await
    }
}
