//! Accounts.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Sql, Store, now_micros};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Reader,
    Librarian,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Librarian => "librarian",
            Role::Admin => "admin",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "admin" => Role::Admin,
            "librarian" => Role::Librarian,
            _ => Role::Reader,
        }
    }

    /// Librarians and admins may manage the catalogue.
    pub fn can_manage_books(self) -> bool {
        matches!(self, Role::Librarian | Role::Admin)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: String,
    username: String,
    display_name: String,
    role: String,
    created_at: i64,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id.parse().unwrap_or_default(),
            username: row.username,
            display_name: row.display_name,
            role: Role::parse(&row.role),
            created_at: row.created_at,
        }
    }
}

pub(super) const USER_COLUMNS: &str = "id, username, display_name, role, created_at";

/// Binds: id, username, display_name, password_hash, role, created_at.
pub(super) const INSERT_USER: &str =
    "INSERT INTO users (id, username, display_name, password_hash, role, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)";

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

impl Store {
    /// Creates an account; a taken username is a unique violation (see [`super::is_unique_violation`]).
    pub async fn create_user(&self, new: NewUser<'_>) -> sqlx::Result<User> {
        // Random, not time-ordered: anyone who sees an author's id must not learn when the
        // account was made.
        let user = User {
            id: Uuid::new_v4(),
            username: new.username.to_owned(),
            display_name: new.display_name.to_owned(),
            role: new.role,
            created_at: now_micros(),
        };
        self.db
            .execute(
                Sql::new(INSERT_USER)
                    .bind(user.id.to_string())
                    .bind(&user.username)
                    .bind(&user.display_name)
                    .bind(new.password_hash)
                    .bind(user.role.as_str())
                    .bind(user.created_at),
            )
            .await?;
        Ok(user)
    }

    pub async fn user_by_id(&self, id: Uuid) -> sqlx::Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = self
            .db
            .fetch_optional(Sql::new(sql).bind(id.to_string()))
            .await?;
        Ok(row.map(User::from))
    }

    /// The account a session names, if the session is of its current epoch.
    pub async fn user_by_session(&self, id: Uuid, epoch: i64) -> sqlx::Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND session_epoch = $2");
        let row: Option<UserRow> = self
            .db
            .fetch_optional(Sql::new(sql).bind(id.to_string()).bind(epoch))
            .await?;
        Ok(row.map(User::from))
    }

    /// The epoch a new session of the account carries.
    pub async fn session_epoch(&self, id: Uuid) -> sqlx::Result<i64> {
        let sql = "SELECT session_epoch FROM users WHERE id = $1";
        let epoch: Option<i64> = self
            .db
            .scalar_optional(Sql::new(sql).bind(id.to_string()))
            .await?;
        Ok(epoch.unwrap_or_default())
    }

    /// Replaces the password and moves the session epoch on (ending every session made
    /// before), returning the new epoch.
    pub async fn set_password(&self, id: Uuid, password_hash: &str) -> sqlx::Result<i64> {
        let sql = "UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1
                   WHERE id = $1 RETURNING session_epoch";
        self.db
            .scalar(Sql::new(sql).bind(id.to_string()).bind(password_hash))
            .await
    }

    pub async fn set_display_name(&self, id: Uuid, display_name: &str) -> sqlx::Result<()> {
        let sql = "UPDATE users SET display_name = $2 WHERE id = $1";
        self.db
            .execute(Sql::new(sql).bind(id.to_string()).bind(display_name))
            .await
            .map(|_| ())
    }

    /// The account and its password hash, for checking a login.
    pub async fn user_credentials(&self, username: &str) -> sqlx::Result<Option<(User, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1");
        let row: Option<Row> = self.db.fetch_optional(Sql::new(sql).bind(username)).await?;
        Ok(row.map(|row| (row.user.into(), row.password_hash)))
    }
}
