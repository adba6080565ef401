//! Study groups: membership, roles, invitations, and what happens to group notes when
//! people leave or a group ends.
//!
//! Every change that depends on who is in a group (joining, leaving, removing, role changes,
//! deleting) runs in one transaction that first writes the group's row. That write takes the
//! group's row lock on PostgreSQL and the write lock on SQLite, so those changes to one group
//! happen one after another and each sees the membership the previous one left.

mod error;
mod group;
mod invites;
mod membership;
mod notices;

pub use error::GroupError;
pub(super) use group::{DELETE_GROUP, LOCK_GROUP, NOTES_TO_PRIVATE, ROLE_OF};
pub use group::{Group, GroupFields, GroupRole, GroupSummary};
pub use invites::{Invite, UNKNOWN_INVITE};
pub use membership::{LeaveNotes, Left, Member};
pub use notices::{Notice, NoticeKind};
