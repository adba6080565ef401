//! The first run: a one-time token that lets whoever holds the setup link create the admin
//! account while the server has no admin (on a new server: no account at all; with
//! `--demo`, only the demo readers). Only its SHA-256 is stored.

use uuid::Uuid;

use super::tokens::hash_token;
use super::users::{INSERT_USER, Role, User};
use super::{Sql, Store, now_micros};

/// The account [`Store::complete_setup`] creates as the admin.
pub struct FirstAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
}

const HAS_ADMIN: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')";

/// How long a setup link stays valid.
pub const SETUP_TOKEN_LIFETIME_MICROS: i64 = 24 * 3600 * 1_000_000;

impl Store {
    /// A fresh setup token while no admin exists (None once one does). It replaces any
    /// earlier one, so the link printed last is the link that works.
    pub async fn issue_setup_token(&self) -> sqlx::Result<Option<String>> {
        let token = crate::passwords::random_secret("");
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        tx.execute(Sql::new("DELETE FROM setup_tokens")).await?;
        let has_admin: bool = tx.scalar(Sql::new(HAS_ADMIN)).await?;
        if has_admin {
            tx.commit().await?;
            return Ok(None);
        }
        tx.execute(
            Sql::new(
                "INSERT INTO setup_tokens (token_hash, expires_at, created_at) VALUES ($1, $2, $3)",
            )
            .bind(hash_token(&token))
            .bind(now + SETUP_TOKEN_LIFETIME_MICROS)
            .bind(now),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    /// Whether `token` would create the admin now: known, unexpired, and no admin yet.
    pub async fn setup_token_valid(&self, token: &str) -> sqlx::Result<bool> {
        let sql =
            "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2)
                   AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')";
        self.db
            .scalar(Sql::new(sql).bind(hash_token(token)).bind(now_micros()))
            .await
    }

    /// Creates the admin account and consumes the setup token, in one transaction; None
    /// (nothing written) when the token is unknown or expired or an admin exists already.
    ///
    /// Every setup takes all tokens first (deleting them), so two setups at once wait for
    /// each other and the second finds no token: exactly one admin.
    pub async fn complete_setup(
        &self,
        token: &str,
        new: FirstAccount<'_>,
    ) -> sqlx::Result<Option<User>> {
        let presented = hash_token(token);
        let user = User {
            id: Uuid::now_v7(),
            username: new.username.to_owned(),
            display_name: new.display_name.to_owned(),
            role: Role::Admin,
            created_at: now_micros(),
        };
        let mut tx = self.db.begin().await?;
        let taken: Vec<(String, i64)> = tx
            .fetch_all(Sql::new(
                "DELETE FROM setup_tokens RETURNING token_hash, expires_at",
            ))
            .await?;
        let valid = taken
            .iter()
            .any(|(hash, expires)| *hash == presented && *expires > user.created_at);
        let has_admin: bool = tx.scalar(Sql::new(HAS_ADMIN)).await?;
        if has_admin {
            // Tokens are dead once an admin exists: their deletion stands.
            tx.commit().await?;
            return Ok(None);
        }
        if !valid {
            // A wrong guess must not use up the real link: dropping the transaction rolls
            // the deletion back.
            return Ok(None);
        }
        tx.execute(
            Sql::new(INSERT_USER)
                .bind(user.id)
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(new.password_hash)
                .bind(user.role.as_str())
                .bind(user.created_at),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(user))
    }
}

impl Store {
    /// Whether the database holds no account, book or group (what `--demo` seeds).
    pub async fn is_empty(&self) -> sqlx::Result<bool> {
        let sql = "SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM books)
                   AND NOT EXISTS (SELECT 1 FROM groups)";
        self.db.scalar(Sql::new(sql)).await
    }
}
