//! Each reader's margin: whose notes they see (per account, overridden per book) and mutes.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::Store;
use super::annotations::{Margin, MarginMode};
use crate::with_db;

/// The key under which the account-wide preference is stored (books have their id).
const ACCOUNT: &str = "";

/// SQL for `column` of the preference that applies to `user` on `book` (SQL expressions):
/// the book's override, else the account's, else NULL. The book's id sorts after the
/// account's empty key, so the override comes first when both are stored.
pub fn stored_preference(column: &str, user: &str, book: &str) -> String {
    format!(
        "(SELECT p.{column} FROM preferences p \
          WHERE p.user_id = {user} AND p.book_id IN ({book}, '{ACCOUNT}') \
          ORDER BY p.book_id DESC LIMIT 1)"
    )
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub account: Margin,
    pub books: BTreeMap<String, Margin>,
}

#[derive(sqlx::FromRow)]
struct PreferenceRow {
    book_id: String,
    margin: String,
    my_reading_first: bool,
}

impl Store {
    /// A reader's preferences; a new account sees its groups' notes (`groups`).
    pub async fn preferences(&self, user: Uuid) -> sqlx::Result<Preferences> {
        let sql = "SELECT book_id, margin, my_reading_first FROM preferences WHERE user_id = $1";
        let rows: Vec<PreferenceRow> = with_db!(&self.db, |pool| sqlx::query_as(sql)
            .bind(user.to_string())
            .fetch_all(pool)
            .await)?;
        let mut preferences = Preferences::default();
        for row in rows {
            let margin = Margin {
                margin: MarginMode::parse(&row.margin).unwrap_or_default(),
                my_reading_first: row.my_reading_first,
            };
            if row.book_id == ACCOUNT {
                preferences.account = margin;
            } else {
                preferences.books.insert(row.book_id, margin);
            }
        }
        Ok(preferences)
    }

    /// Replaces a reader's preferences: the account's and the whole set of book overrides.
    pub async fn set_preferences(&self, user: Uuid, preferences: &Preferences) -> sqlx::Result<()> {
        let rows: Vec<(&str, &Margin)> = std::iter::once((ACCOUNT, &preferences.account))
            .chain(preferences.books.iter().map(|(book, m)| (book.as_str(), m)))
            .collect();
        with_db!(&self.db, |pool| async {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM preferences WHERE user_id = $1")
                .bind(user.to_string())
                .execute(&mut *tx)
                .await?;
            for (book, margin) in &rows {
                sqlx::query(
                    "INSERT INTO preferences (user_id, book_id, margin, my_reading_first)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(user.to_string())
                .bind(*book)
                .bind(margin.margin.as_str())
                .bind(margin.my_reading_first)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }
        .await)
    }

    /// The margin a reader uses on one book: the book's override, else the account's.
    pub async fn effective_margin(&self, user: Uuid, book: Uuid) -> sqlx::Result<Margin> {
        let sql = format!(
            "SELECT {}, {}",
            stored_preference("margin", "$1", "$2"),
            stored_preference("my_reading_first", "$1", "$2")
        );
        let (margin, my_reading_first): (Option<String>, Option<bool>) =
            with_db!(&self.db, |pool| sqlx::query_as(&sql)
                .bind(user.to_string())
                .bind(book.to_string())
                .fetch_one(pool)
                .await)?;
        Ok(Margin {
            margin: margin
                .as_deref()
                .and_then(MarginMode::parse)
                .unwrap_or_default(),
            my_reading_first: my_reading_first.unwrap_or_default(),
        })
    }

    pub async fn mute(&self, user: Uuid, muted: Uuid) -> sqlx::Result<()> {
        let sql = "INSERT INTO mutes (user_id, muted_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        with_db!(&self.db, |pool| sqlx::query(sql)
            .bind(user.to_string())
            .bind(muted.to_string())
            .execute(pool)
            .await
            .map(|_| ()))
    }

    pub async fn unmute(&self, user: Uuid, muted: Uuid) -> sqlx::Result<bool> {
        let sql = "DELETE FROM mutes WHERE user_id = $1 AND muted_id = $2";
        let done = with_db!(&self.db, |pool| sqlx::query(sql)
            .bind(user.to_string())
            .bind(muted.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// The people a reader muted: (id, display name).
    pub async fn mutes(&self, user: Uuid) -> sqlx::Result<Vec<(String, String)>> {
        let sql = "SELECT u.id, u.display_name FROM mutes m JOIN users u ON u.id = m.muted_id
                   WHERE m.user_id = $1 ORDER BY u.display_name, u.id";
        with_db!(&self.db, |pool| sqlx::query_as(sql)
            .bind(user.to_string())
            .fetch_all(pool)
            .await)
    }
}
