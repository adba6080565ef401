//! Raw queries for the integration tests and the benchmark, which check and seed what the
//! HTTP API does not show (a stored hash, a million notes). Not for the service: its code
//! goes through the store's own methods, which apply the visibility rule.

use super::db::{Row, Value};
use super::{Db, Sql, Store, Tx};

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
