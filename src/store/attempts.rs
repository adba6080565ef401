//! Counted attempts (logins, registrations): recorded before they are checked, so that
//! concurrent attempts see each other, and kept in the database that every server shares.

use std::time::Duration;

use uuid::Uuid;

use super::{Sql, Store};

/// No limit counts attempts further back than this (the longest window), so older ones, under
/// any scope, are deleted: a flood of made-up names cannot fill the table.
const KEPT: Duration = crate::passwords::REGISTRATION_WINDOW;

/// One recorded attempt and the times (µs) of the scope's other attempts since the window began.
pub struct Attempt {
    pub id: String,
    pub earlier: Vec<i64>,
}

impl Store {
    /// Records an attempt under `scope` at `now`, forgetting the scope's attempts before `since`
    /// (and everyone's older than [`KEPT`]), and returns it with the scope's other attempts.
    /// Each attempt is written before it is counted, so of any number of concurrent attempts
    /// the last to count sees all the others.
    pub async fn record_attempt(&self, scope: &str, now: i64, since: i64) -> sqlx::Result<Attempt> {
        let id = Uuid::now_v7().to_string();
        let kept_since = now - KEPT.as_micros() as i64;
        {
            self.db
                .execute(
                    Sql::new("DELETE FROM attempts WHERE (scope = $1 AND at < $2) OR at < $3")
                        .bind(scope)
                        .bind(since)
                        .bind(kept_since),
                )
                .await?;
            self.db
                .execute(
                    Sql::new("INSERT INTO attempts (id, scope, at) VALUES ($1, $2, $3)")
                        .bind(&id)
                        .bind(scope)
                        .bind(now),
                )
                .await?;
            let earlier: Vec<i64> = self
                .db
                .scalars(
                    Sql::new("SELECT at FROM attempts WHERE scope = $1 AND id <> $2")
                        .bind(scope)
                        .bind(&id),
                )
                .await?;
            Ok(Attempt { id, earlier })
        }
    }

    /// Forgets one attempt (one that was refused unchecked, so it does not prolong a wait).
    pub async fn forget_attempt(&self, id: &str) -> sqlx::Result<()> {
        self.db
            .execute(Sql::new("DELETE FROM attempts WHERE id = $1").bind(id))
            .await
            .map(|_| ())
    }

    /// Forgets every attempt under `scope` (after a successful login).
    pub async fn clear_attempts(&self, scope: &str) -> sqlx::Result<()> {
        self.db
            .execute(Sql::new("DELETE FROM attempts WHERE scope = $1").bind(scope))
            .await
            .map(|_| ())
    }
}
