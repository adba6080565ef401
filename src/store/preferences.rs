//! Each reader's margin: whose notes they see (per account, overridden per book) and mutes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::users::User;
use super::visibility::thread_visible;
use super::visibility::viewer_binds;
use super::{Sql, Store};

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

/// SQL: the viewer may read a note signed by `author` (not anonymized).
fn sees_notes_by(author: &str, viewer: &str, role: &str) -> String {
    let visible = thread_visible("sn", "sn.book_id", viewer, role);
    format!(
        "EXISTS (SELECT 1 FROM annotations sn \
                 WHERE sn.author_id = {author} AND sn.anonymous = FALSE AND {visible})"
    )
}

/// Whose notes besides their own a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MarginMode {
    None,
    #[default]
    Groups,
    Everyone,
}

impl MarginMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MarginMode::None => "none",
            MarginMode::Groups => "groups",
            MarginMode::Everyone => "everyone",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(MarginMode::None),
            "groups" => Some(MarginMode::Groups),
            "everyone" => Some(MarginMode::Everyone),
            _ => None,
        }
    }
}

/// A reader's effective margin for one book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Margin {
    pub margin: MarginMode,
    pub my_reading_first: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub account: Margin,
    /// Whether others see that the reader's notes were written before reading theirs.
    pub show_written_blind: bool,
    pub books: BTreeMap<String, Margin>,
}

#[derive(sqlx::FromRow)]
struct PreferenceRow {
    book_id: String,
    margin: String,
    my_reading_first: bool,
    show_written_blind: bool,
}

impl Store {
    /// A reader's preferences; a new account sees its groups' notes (`groups`).
    pub async fn preferences(&self, user: Uuid) -> sqlx::Result<Preferences> {
        let sql = "SELECT book_id, margin, my_reading_first, show_written_blind FROM preferences
                   WHERE user_id = $1";
        let rows: Vec<PreferenceRow> = self
            .db
            .fetch_all(Sql::new(sql).bind(user.to_string()))
            .await?;
        let mut preferences = Preferences::default();
        for row in rows {
            let margin = Margin {
                margin: MarginMode::parse(&row.margin).unwrap_or_default(),
                my_reading_first: row.my_reading_first,
            };
            if row.book_id == ACCOUNT {
                preferences.account = margin;
                preferences.show_written_blind = row.show_written_blind;
            } else {
                preferences.books.insert(row.book_id, margin);
            }
        }
        Ok(preferences)
    }

    /// Stores a reader's preferences: the account's and the whole set of book overrides.
    pub async fn set_preferences(&self, user: Uuid, preferences: &Preferences) -> sqlx::Result<()> {
        let account = (
            ACCOUNT,
            &preferences.account,
            preferences.show_written_blind,
        );
        let rows: Vec<(&str, &Margin, bool)> = std::iter::once(account)
            .chain(
                preferences
                    .books
                    .iter()
                    .map(|(book, m)| (book.as_str(), m, false)),
            )
            .collect();
        let mut tx = self.db.begin().await?;
        tx.execute(Sql::new("DELETE FROM preferences WHERE user_id = $1").bind(user.to_string()))
            .await?;
        for (book, margin, show_written_blind) in &rows {
            tx.execute(
                Sql::new(
                    "INSERT INTO preferences
                         (user_id, book_id, margin, my_reading_first, show_written_blind)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(user.to_string())
                .bind(*book)
                .bind(margin.margin.as_str())
                .bind(margin.my_reading_first)
                .bind(*show_written_blind),
            )
            .await?;
        }
        tx.commit().await
    }

    /// The margin a reader uses on one book: the book's override, else the account's.
    pub async fn effective_margin(&self, user: Uuid, book: Uuid) -> sqlx::Result<Margin> {
        let sql = format!(
            "SELECT {}, {}",
            stored_preference("margin", "$1", "$2"),
            stored_preference("my_reading_first", "$1", "$2")
        );
        let (margin, my_reading_first): (Option<String>, Option<bool>) = self
            .db
            .fetch_one(Sql::new(sql).bind(user.to_string()).bind(book.to_string()))
            .await?;
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
        self.db
            .execute(Sql::new(sql).bind(user.to_string()).bind(muted.to_string()))
            .await
            .map(|_| ())
    }

    pub async fn unmute(&self, user: Uuid, muted: Uuid) -> sqlx::Result<bool> {
        let sql = "DELETE FROM mutes WHERE user_id = $1 AND muted_id = $2";
        let done = self
            .db
            .execute(Sql::new(sql).bind(user.to_string()).bind(muted.to_string()))
            .await?;
        Ok(done > 0)
    }

    /// Whether `viewer` may read a note signed by `author`: only such people can be muted,
    /// so that muting tells nobody whether an id is someone's.
    pub async fn sees_notes_by(&self, viewer: &User, author: Uuid) -> sqlx::Result<bool> {
        let sql = format!("SELECT {}", sees_notes_by("$3", "$1", "$2"));
        let (viewer_id, role) = viewer_binds(Some(viewer));
        self.db
            .scalar(
                Sql::new(sql)
                    .bind(viewer_id)
                    .bind(role)
                    .bind(author.to_string()),
            )
            .await
    }

    /// The people a reader muted: (id, display name). The name shows only while the reader
    /// may read a note signed by them, so a mute does not follow a person's renames.
    pub async fn mutes(&self, user: &User) -> sqlx::Result<Vec<(String, Option<String>)>> {
        let sql = format!(
            "SELECT id, shown FROM ( \
                SELECT u.id, CASE WHEN {} THEN u.display_name END AS shown FROM mutes m \
                JOIN users u ON u.id = m.muted_id WHERE m.user_id = $1) mu \
             ORDER BY shown IS NULL, shown, id",
            sees_notes_by("m.muted_id", "$1", "$2")
        );
        let (viewer_id, role) = viewer_binds(Some(user));
        self.db
            .fetch_all(Sql::new(sql).bind(viewer_id).bind(role))
            .await
    }
}
