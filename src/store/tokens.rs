//! API tokens for scripts. Only a SHA-256 of each token is stored.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::users::{User, UserRow};
use super::{Sql, Store, now_micros};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Stores a new token for `user` and returns its record with the secret (shown once).
    pub async fn create_token(&self, user: Uuid, name: &str) -> sqlx::Result<(TokenInfo, String)> {
        let secret = crate::passwords::random_secret("sch_");
        let info = TokenInfo {
            id: Uuid::now_v7().to_string(),
            name: name.to_owned(),
            created_at: now_micros(),
        };
        let sql = "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at)
                   VALUES ($1, $2, $3, $4, $5)";
        self.db
            .execute(
                Sql::new(sql)
                    .bind(&info.id)
                    .bind(user.to_string())
                    .bind(&info.name)
                    .bind(hash_token(&secret))
                    .bind(info.created_at),
            )
            .await?;
        Ok((info, secret))
    }

    pub async fn list_tokens(&self, user: Uuid) -> sqlx::Result<Vec<TokenInfo>> {
        let sql = "SELECT id, name, created_at FROM api_tokens
                   WHERE user_id = $1 ORDER BY created_at, id";
        self.db
            .fetch_all(Sql::new(sql).bind(user.to_string()))
            .await
    }

    /// Revokes one of `user`'s tokens; false when there was no such token of theirs.
    pub async fn delete_token(&self, user: Uuid, id: &str) -> sqlx::Result<bool> {
        let sql = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2";
        let done = self
            .db
            .execute(Sql::new(sql).bind(id).bind(user.to_string()))
            .await?;
        Ok(done > 0)
    }

    /// The user a bearer token belongs to.
    /// One query: every API request asks it first.
    pub async fn user_by_token(&self, token: &str) -> sqlx::Result<Option<User>> {
        let sql = "SELECT u.id, u.username, u.display_name, u.role, u.created_at
                   FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1";
        let row: Option<UserRow> = self
            .db
            .fetch_optional(Sql::new(sql).bind(hash_token(token)))
            .await?;
        Ok(row.map(User::from))
    }
}
