//! Persistence over sqlx: SQLite (the embedded default) or PostgreSQL, one API for both.
//!
//! Each query is written once in SQL both databases accept (`$1` placeholders, TEXT ids,
//! BIGINT microsecond times) as an [`Sql`] and run through the seam in [`db`]; the few that
//! differ per database live in [`dialect`].

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

pub mod annotations;
pub mod attempts;
pub mod books;
mod db;
mod dialect;
pub mod groups;
pub mod lifecycle;
pub mod moderation;
pub mod preferences;
pub mod progress;
pub mod refresh;
pub mod search;
pub mod sessions;
pub mod setup;
pub mod testing;
pub mod tokens;
pub mod user_admin;
pub mod users;
pub mod visibility;

use db::Db;
pub use db::{Bind, Row, Sql, Tx, Value};
use dialect::Dialect;

/// The storage layer handed to request handlers.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    dialect: &'static dyn Dialect,
    notes: annotations::NoteWriter,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file if missing.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                // A connection back from a query a moment ago is alive: ping only those that
                // idled long enough for the server or the network to have dropped them, and
                // spare a round trip per query under load (BENCHMARKS.md, "Annotations").
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for < Duration::from_secs(1) {
                            return Ok(true);
                        }
                        conn.ping().await.map(|()| true)
                    })
                })
                // A listing's plan is estimated dear (its rule's conditions look selective), so
                // PostgreSQL would JIT-compile it on every run, which costs far more than a query
                // that stops after a page can save (BENCHMARKS.md, "Annotations").
                .after_connect(|conn, _| {
                    Box::pin(
                        async move { sqlx::query("SET jit = off").execute(conn).await.map(|_| ()) },
                    )
                })
                .connect(url)
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
            Db::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // Reads run in parallel under WAL but only as fast as there are cores: connections
            // beyond twice the cores only preempt each other mid-query and lengthen the slowest
            // listings under load (BENCHMARKS.md, "Annotations").
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let pool = SqlitePoolOptions::new()
                .max_connections((2 * cores).max(4) as u32)
                // A pooled SQLite connection is an open file, which cannot drop the way a
                // network connection can: pinging it before every query would only cost a
                // round trip to its thread (BENCHMARKS.md, "Annotations").
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(|e| anyhow::anyhow!("cannot open SQLite database {url}: {e}"))?;
            Db::Sqlite(pool)
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://… or postgres://…");
        };
        let dialect: &'static dyn Dialect = match db {
            Db::Sqlite(_) => &dialect::Sqlite,
            Db::Postgres(_) => &dialect::Postgres,
        };
        let notes = annotations::NoteWriter::start(db.clone());
        Ok(Self { db, dialect, notes })
    }

    /// Applies pending migrations, then brings books stored by an earlier importer up to date
    /// ([`refresh`]); running it again is a no-op.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.db.migrate().await?;
        self.sessions().migrate().await?;
        let refreshed = self.refresh_stored_books().await?;
        if refreshed > 0 {
            tracing::info!(
                books = refreshed,
                "books from an earlier importer sanitized again"
            );
        }
        self.refresh_statistics().await?;
        Ok(())
    }

    /// Brings the query planner's statistics up to date where the database does not do it
    /// itself; run after migrating, after an import and hourly while serving.
    pub async fn refresh_statistics(&self) -> sqlx::Result<()> {
        let statements = self.dialect.refresh_statistics();
        if statements.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        for statement in statements {
            tx.execute(Sql::new(*statement)).await?;
        }
        tx.commit().await
    }

    /// Answers whether the database responds.
    pub async fn ping(&self) -> sqlx::Result<()> {
        self.db.ping().await
    }

    /// The tower-sessions store on this database.
    pub fn sessions(&self) -> sessions::SessionBackend {
        sessions::SessionBackend::new(&self.db)
    }

    pub async fn close(&self) {
        self.db.close().await
    }
}

/// Current time as microseconds since the Unix epoch, the unit every stored time uses.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Formats a stored time as RFC 3339.
pub fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether `err` is a unique-constraint violation (a duplicate name, say).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
