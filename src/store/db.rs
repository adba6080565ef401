//! The seam between the store and its two databases.
//!
//! Store code builds a query once, as an [`Sql`] value (text with `$n` placeholders and the
//! values bound to them), and runs it through [`Db`] or a [`Tx`]. Those two are the only
//! places that know which database is behind them: each of their methods matches once on
//! the backend and hands the same text and values to sqlx's SQLite or PostgreSQL driver. Row
//! types are decoded by sqlx for whichever backend answered ([`Row`], [`Value`]), so a query
//! reads as ordinary Rust and rustfmt formats it.
//!
//! Where the dialects really differ (full-text search, a page as one JSON value), the store
//! asks its [`super::dialect::Dialect`], chosen once when the store connects.

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Arguments, Connection, Decode, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Type};

/// A connection pool on one of the supported databases.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A value bound to a placeholder. A NULL keeps its type: PostgreSQL checks a parameter's
/// type against its column, so a text NULL cannot stand in an integer column.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// A query: its text, with `$1`, `$2`... placeholders both databases accept, and the values
/// bound to them in order.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Bind>) -> Self {
        self.binds.push(value.into());
        self
    }

    /// Binds a value for a query assembled at run time and returns its placeholder.
    pub fn arg(&mut self, value: impl Into<Bind>) -> String {
        self.binds.push(value.into());
        format!("${}", self.binds.len())
    }

    fn sqlite(&self) -> sqlx::Result<SqliteArguments<'_>> {
        let mut args = SqliteArguments::default();
        for bind in &self.binds {
            match bind {
                Bind::Text(v) => args.add(v.as_deref()),
                Bind::Int(v) => args.add(*v),
                Bind::Bool(v) => args.add(*v),
                Bind::Bytes(v) => args.add(v.as_deref()),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        Ok(args)
    }

    fn postgres(&self) -> sqlx::Result<PgArguments> {
        let mut args = PgArguments::default();
        for bind in &self.binds {
            match bind {
                Bind::Text(v) => args.add(v.as_deref()),
                Bind::Int(v) => args.add(*v),
                Bind::Bool(v) => args.add(*v),
                Bind::Bytes(v) => args.add(v.as_deref()),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        Ok(args)
    }
}

/// A row type both drivers can decode: a tuple, or a struct deriving `sqlx::FromRow`.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A column value both drivers can decode, for single-column queries.
pub trait Value:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Value for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

/// One connection of either database, from the pool or inside a transaction.
enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    async fn execute(self, sql: &Sql) -> sqlx::Result<u64> {
        Ok(match self {
            Conn::Sqlite(c) => sqlx::query_with(&sql.text, sql.sqlite()?)
                .execute(c)
                .await?
                .rows_affected(),
            Conn::Postgres(c) => sqlx::query_with(&sql.text, sql.postgres()?)
                .execute(c)
                .await?
                .rows_affected(),
        })
    }

    async fn fetch_all<T: Row>(self, sql: &Sql) -> sqlx::Result<Vec<T>> {
        match self {
            Conn::Sqlite(c) => {
                sqlx::query_as_with(&sql.text, sql.sqlite()?)
                    .fetch_all(c)
                    .await
            }
            Conn::Postgres(c) => {
                sqlx::query_as_with(&sql.text, sql.postgres()?)
                    .fetch_all(c)
                    .await
            }
        }
    }

    async fn fetch_optional<T: Row>(self, sql: &Sql) -> sqlx::Result<Option<T>> {
        match self {
            Conn::Sqlite(c) => {
                sqlx::query_as_with(&sql.text, sql.sqlite()?)
                    .fetch_optional(c)
                    .await
            }
            Conn::Postgres(c) => {
                sqlx::query_as_with(&sql.text, sql.postgres()?)
                    .fetch_optional(c)
                    .await
            }
        }
    }
    async fn fetch_one<T: Row>(self, sql: &Sql) -> sqlx::Result<T> {
        self.fetch_optional(sql)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    async fn scalars<T: Value>(self, sql: &Sql) -> sqlx::Result<Vec<T>> {
        let rows: Vec<(T,)> = self.fetch_all(sql).await?;
        Ok(rows.into_iter().map(|(value,)| value).collect())
    }

    async fn scalar_optional<T: Value>(self, sql: &Sql) -> sqlx::Result<Option<T>> {
        let row: Option<(T,)> = self.fetch_optional(sql).await?;
        Ok(row.map(|(value,)| value))
    }

    async fn scalar<T: Value>(self, sql: &Sql) -> sqlx::Result<T> {
        let (value,): (T,) = self.fetch_one(sql).await?;
        Ok(value)
    }
}

impl Db {
    async fn acquire(&self) -> sqlx::Result<Held> {
        Ok(match self {
            Db::Sqlite(pool) => Held::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => Held::Postgres(pool.acquire().await?),
        })
    }

    /// Begins a transaction, which the store opens only to write. On SQLite it takes the
    /// write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that reads first and
    /// then writes fails at once with SQLITE_BUSY, busy timeout or not, when another
    /// connection committed in between; an immediate one waits for the lock instead.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&self, sql: Sql) -> sqlx::Result<u64> {
        self.acquire().await?.conn().execute(&sql).await
    }

    pub async fn fetch_all<T: Row>(&self, sql: Sql) -> sqlx::Result<Vec<T>> {
        self.acquire().await?.conn().fetch_all(&sql).await
    }

    pub async fn fetch_optional<T: Row>(&self, sql: Sql) -> sqlx::Result<Option<T>> {
        self.acquire().await?.conn().fetch_optional(&sql).await
    }

    pub async fn fetch_one<T: Row>(&self, sql: Sql) -> sqlx::Result<T> {
        self.acquire().await?.conn().fetch_one(&sql).await
    }

    /// Every row of a long query whose plan hangs on none of its values, planned once per
    /// connection. PostgreSQL plans a prepared statement again for its values on each of
    /// its first five runs on a connection, and a margin's statement (the rule in every set
    /// it reads) took 11.6 ms to plan against 3.3 to run (BENCHMARKS.md): here it runs in a
    /// transaction that asks for the generic plan at once. SQLite plans a statement once,
    /// when it prepares it.
    pub async fn fetch_all_planned_once<T: Row>(&self, sql: Sql) -> sqlx::Result<Vec<T>> {
        match self {
            Db::Sqlite(_) => self.fetch_all(sql).await,
            Db::Postgres(pool) => {
                let begin = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";
                let mut tx = pool.begin_with(begin).await?;
                let rows = Conn::Postgres(&mut tx).fetch_all(&sql).await?;
                tx.commit().await?;
                Ok(rows)
            }
        }
    }

    /// The first column of every row.
    pub async fn scalars<T: Value>(&self, sql: Sql) -> sqlx::Result<Vec<T>> {
        self.acquire().await?.conn().scalars(&sql).await
    }

    /// The first column of the first row, if there is a row.
    pub async fn scalar_optional<T: Value>(&self, sql: Sql) -> sqlx::Result<Option<T>> {
        self.acquire().await?.conn().scalar_optional(&sql).await
    }

    /// The first column of the one row the query must return.
    pub async fn scalar<T: Value>(&self, sql: Sql) -> sqlx::Result<T> {
        self.acquire().await?.conn().scalar(&sql).await
    }

    /// Applies this database's pending migrations.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        match self.acquire().await? {
            Held::Sqlite(mut c) => c.ping().await,
            Held::Postgres(mut c) => c.ping().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// A pooled connection, back to its pool when dropped.
enum Held {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Held {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Held::Sqlite(c) => Conn::Sqlite(c),
            Held::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A transaction on either database: rolled back when dropped without [`Tx::commit`].
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Binds a value of a long multi-row statement and returns its placeholder: `?` on
    /// SQLite, which finds a named `$n` by walking the list of every name in the statement
    /// (quadratic in a statement of thousands of values), `$n` on PostgreSQL, which has no `?`.
    pub fn batch_arg(&self, sql: &mut Sql, value: impl Into<Bind>) -> String {
        match self {
            Tx::Sqlite(_) => {
                sql.binds.push(value.into());
                "?".to_owned()
            }
            Tx::Postgres(_) => sql.arg(value),
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, sql: Sql) -> sqlx::Result<u64> {
        self.conn().execute(&sql).await
    }

    pub async fn fetch_all<T: Row>(&mut self, sql: Sql) -> sqlx::Result<Vec<T>> {
        self.conn().fetch_all(&sql).await
    }

    pub async fn fetch_optional<T: Row>(&mut self, sql: Sql) -> sqlx::Result<Option<T>> {
        self.conn().fetch_optional(&sql).await
    }

    pub async fn fetch_one<T: Row>(&mut self, sql: Sql) -> sqlx::Result<T> {
        self.conn().fetch_one(&sql).await
    }

    /// The first column of every row.
    pub async fn scalars<T: Value>(&mut self, sql: Sql) -> sqlx::Result<Vec<T>> {
        self.conn().scalars(&sql).await
    }

    /// The first column of the first row, if there is a row.
    pub async fn scalar_optional<T: Value>(&mut self, sql: Sql) -> sqlx::Result<Option<T>> {
        self.conn().scalar_optional(&sql).await
    }

    /// The first column of the one row the query must return.
    pub async fn scalar<T: Value>(&mut self, sql: Sql) -> sqlx::Result<T> {
        self.conn().scalar(&sql).await
    }
}

impl From<String> for Bind {
    fn from(v: String) -> Self {
        Bind::Text(Some(v))
    }
}

impl From<&str> for Bind {
    fn from(v: &str) -> Self {
        Bind::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Bind {
    fn from(v: &String) -> Self {
        Bind::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Bind {
    fn from(v: Option<String>) -> Self {
        Bind::Text(v)
    }
}

impl From<Option<&str>> for Bind {
    fn from(v: Option<&str>) -> Self {
        Bind::Text(v.map(str::to_owned))
    }
}

impl From<&Option<String>> for Bind {
    fn from(v: &Option<String>) -> Self {
        Bind::Text(v.clone())
    }
}

impl From<uuid::Uuid> for Bind {
    fn from(v: uuid::Uuid) -> Self {
        Bind::Text(Some(v.to_string()))
    }
}

impl From<Option<uuid::Uuid>> for Bind {
    fn from(v: Option<uuid::Uuid>) -> Self {
        Bind::Text(v.map(|id| id.to_string()))
    }
}

impl From<i64> for Bind {
    fn from(v: i64) -> Self {
        Bind::Int(Some(v))
    }
}

impl From<Option<i64>> for Bind {
    fn from(v: Option<i64>) -> Self {
        Bind::Int(v)
    }
}

impl From<bool> for Bind {
    fn from(v: bool) -> Self {
        Bind::Bool(Some(v))
    }
}

impl From<Option<bool>> for Bind {
    fn from(v: Option<bool>) -> Self {
        Bind::Bool(v)
    }
}

impl From<Vec<u8>> for Bind {
    fn from(v: Vec<u8>) -> Self {
        Bind::Bytes(Some(v))
    }
}

impl From<&[u8]> for Bind {
    fn from(v: &[u8]) -> Self {
        Bind::Bytes(Some(v.to_vec()))
    }
}
