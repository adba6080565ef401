//! Accounts as an admin manages them: the list of accounts, and roles.

use uuid::Uuid;

use super::users::{Role, USER_COLUMNS, User, UserRow};
use super::{Sql, Store, escape_like};

/// How a role change ended.
#[derive(Debug)]
pub enum RoleChange {
    Changed(User),
    NoSuchUser,
    /// The account is the last admin: the server would be left without one.
    LastAdmin,
}

impl Store {
    /// Accounts by login name after `after`, optionally those whose login or display name
    /// contains `query` (case-insensitively).
    pub async fn list_users(
        &self,
        query: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> sqlx::Result<Vec<User>> {
        let pattern = query
            .map(|q| format!("%{}%", escape_like(&q.to_lowercase())))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE ($1 = '' OR username LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\')
               AND username > $2
             ORDER BY username LIMIT $3"
        );
        let rows: Vec<UserRow> = self
            .db
            .fetch_all(
                Sql::new(sql)
                    .bind(&pattern)
                    .bind(after.unwrap_or(""))
                    .bind(limit),
            )
            .await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// Gives `user` the role `role`, unless that would leave the server without an admin.
    ///
    /// The transaction first writes every admin's row (changing nothing), so concurrent role
    /// changes queue behind each other and each counts the admins the one before it left.
    pub async fn set_role(&self, user: Uuid, role: Role) -> sqlx::Result<RoleChange> {
        let id = user.to_string();
        let mut tx = self.db.begin().await?;
        tx.execute(Sql::new(
            "UPDATE users SET role = role WHERE role = 'admin'",
        ))
        .await?;
        let current: Option<String> = tx
            .scalar_optional(Sql::new("SELECT role FROM users WHERE id = $1").bind(&id))
            .await?;
        let Some(current) = current else {
            return Ok(RoleChange::NoSuchUser);
        };
        if current == Role::Admin.as_str() && role != Role::Admin {
            let admins: i64 = tx
                .scalar(Sql::new("SELECT COUNT(*) FROM users WHERE role = 'admin'"))
                .await?;
            if admins <= 1 {
                return Ok(RoleChange::LastAdmin);
            }
        }
        let row: UserRow = tx
            .fetch_one(
                Sql::new(format!(
                    "UPDATE users SET role = $2 WHERE id = $1 RETURNING {USER_COLUMNS}"
                ))
                .bind(&id)
                .bind(role.as_str()),
            )
            .await?;
        tx.commit().await?;
        Ok(RoleChange::Changed(row.into()))
    }
}
