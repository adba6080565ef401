//! What the group rules refuse.

/// A refusal by the group rules, or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// The thing does not exist or the caller may not know it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is a member but their role does not allow it.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    /// An invitation that exists no longer admits anyone; says why.
    #[error("{0}")]
    InviteUnusable(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
