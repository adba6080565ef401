//! The world model and the oracle: a plain in-memory account of users, groups, books and
//! notes, and what each viewer may see, written from DESIGN.md's text, never calling the
//! store.

use std::collections::{BTreeMap, BTreeSet};

use scholia::store::users::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GRole {
    Owner,
    Facilitator,
    Member,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    None,
    Groups,
    Everyone,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Groups => "groups",
            Mode::Everyone => "everyone",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveNotes {
    Keep,
    Anonymize,
    Withdraw,
}

impl LeaveNotes {
    pub fn as_str(self) -> &'static str {
        match self {
            LeaveNotes::Keep => "keep",
            LeaveNotes::Anonymize => "anonymize",
            LeaveNotes::Withdraw => "withdraw",
        }
    }
}

/// An audience: a group is an index into the scenario's groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aud {
    Private,
    Group(usize),
    Public,
}

/// An audience as generated, resolved when the op runs (so that most notes can be written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudGen {
    Exactly(Aud),
    /// The k-th group the author belongs to at that moment (any group if none).
    MyGroup(usize),
    /// The audience of the note replied to (of a root note being edited: public).
    Parent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    SignedIn,
    Groups(Vec<usize>),
}

#[derive(Clone, Debug)]
pub struct Note {
    pub id: String,
    pub book: usize,
    pub passage: usize,
    pub author: usize,
    pub audience: Aud,
    pub reply_to: Option<usize>,
    pub hidden: bool,
    /// A tombstone: deleted while it had replies.
    pub deleted: bool,
    /// Gone from the database.
    pub removed: bool,
    pub anonymous: bool,
    /// Signed by nobody: a tombstone, or shared by an account deleted with `anonymize`.
    pub authorless: bool,
    /// Written while the author's "my reading first" kept others' notes on the passage from
    /// them.
    pub written_blind: bool,
    /// `updated` as last answered, while no change the model does not time has moved it.
    pub updated: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub exists: bool,
    pub open: bool,
    pub members: BTreeMap<usize, GRole>,
    /// The order members joined in (for handing an owned group on).
    pub joined: BTreeMap<usize, usize>,
}

/// A change of a group's openness, told to its members until they dismiss it.
#[derive(Clone, Debug)]
pub struct Notice {
    pub group: usize,
    pub kind: &'static str,
    pub actor: usize,
    /// When, on the clock of joins.
    pub at: usize,
    pub dismissed: BTreeSet<usize>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub reporter: usize,
    pub note: usize,
    pub open: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Margin {
    pub mode: Mode,
    pub reading_first: bool,
}

/// A new account sees its groups' notes, without reading first.
pub const DEFAULT_MARGIN: Margin = Margin {
    mode: Mode::Groups,
    reading_first: false,
};

/// A signed-out visitor has no groups: they see everyone's (public) notes.
const VISITOR_MARGIN: Margin = Margin {
    mode: Mode::Everyone,
    reading_first: false,
};

#[derive(Clone, Debug)]
pub struct Preferences {
    pub account: Margin,
    pub show_written_blind: bool,
    pub books: BTreeMap<usize, Margin>,
}

/// Users are indexed; `None` is a signed-out reader.
pub type Viewer = Option<usize>;

#[derive(Clone, Debug)]
pub struct Model {
    pub roles: Vec<Role>,
    pub groups: Vec<Group>,
    pub books: Vec<Access>,
    pub notes: Vec<Note>,
    pub preferences: Vec<Preferences>,
    /// (muter, muted)
    pub mutes: BTreeSet<(usize, usize)>,
    /// (user, book, passage)
    pub reveals: BTreeSet<(usize, usize, usize)>,
    pub reports: Vec<Report>,
    pub notices: Vec<Notice>,
    /// Accounts deleted.
    pub gone: BTreeSet<usize>,
    /// Joins so far, for the order of members.
    pub joins: usize,
}

impl Model {
    pub fn role_in(&self, user: usize, group: usize) -> Option<GRole> {
        let group = &self.groups[group];
        if !group.exists {
            return None;
        }
        group.members.get(&user).copied()
    }

    fn is_member(&self, viewer: Viewer, group: usize) -> bool {
        viewer.is_some_and(|u| self.role_in(u, group).is_some())
    }

    /// Public books for everyone, signed-in books for any account, group books for members
    /// of a listed group, every book for librarians and admins.
    pub fn may_read_book(&self, viewer: Viewer, book: usize) -> bool {
        let Some(user) = viewer else {
            return self.books[book] == Access::Public;
        };
        if matches!(self.roles[user], Role::Librarian | Role::Admin) {
            return true;
        }
        match &self.books[book] {
            Access::Public | Access::SignedIn => true,
            Access::Groups(groups) => groups.iter().any(|&g| self.is_member(viewer, g)),
        }
    }

    /// The note is the viewer's own: they wrote it and it is signed (a tombstone names nobody,
    /// so it is nobody's).
    pub fn own(&self, viewer: Viewer, note: usize) -> bool {
        let n = &self.notes[note];
        viewer == Some(n.author) && !n.authorless && !n.removed
    }

    /// DESIGN.md's exception: an author reads their own notes by id and in their export
    /// whatever else holds.
    pub fn by_id(&self, viewer: Viewer, note: usize) -> bool {
        self.own(viewer, note) || self.may_read(viewer, note)
    }

    /// What a book's listings, counts and search may show: the exception still needs the
    /// book to be readable there.
    fn listable(&self, viewer: Viewer, note: usize) -> bool {
        let n = &self.notes[note];
        (self.own(viewer, note) && self.may_read_book(viewer, n.book))
            || self.may_read(viewer, note)
    }

    /// DESIGN.md's rule without its exception, and one narrowing of it: a tombstone
    /// (deleted while it had replies) is read only while a note below it that still has
    /// words is, so that it never tells of replies the reader may not read.
    pub fn may_read(&self, viewer: Viewer, note: usize) -> bool {
        self.rule_reads(viewer, note)
            && (!self.notes[note].deleted
                || self
                    .below(note)
                    .into_iter()
                    .any(|d| !self.notes[d].deleted && self.rule_reads(viewer, d)))
    }

    /// Every note in the thread below `note` (replies, their replies, ...).
    pub fn below(&self, note: usize) -> Vec<usize> {
        let mut found = Vec::new();
        let mut next = vec![note];
        while let Some(parent) = next.pop() {
            for (i, n) in self.notes.iter().enumerate() {
                if !n.removed && n.reply_to == Some(parent) {
                    found.push(i);
                    next.push(i);
                }
            }
        }
        found
    }

    /// DESIGN.md: U may read A iff U may read A's book, A is not hidden by moderation (its
    /// author and the group's facilitators still see it; admins moderate public notes), and
    /// A is U's own, or shared with a group U is a member of now, or public; and, for a
    /// reply, U may also read the note it answers (recursively).
    fn rule_reads(&self, viewer: Viewer, note: usize) -> bool {
        let n = &self.notes[note];
        if n.removed || !self.may_read_book(viewer, n.book) {
            return false;
        }
        let own = self.own(viewer, note);
        if n.hidden && !own {
            let moderates = match n.audience {
                Aud::Group(g) => viewer
                    .and_then(|u| self.role_in(u, g))
                    .is_some_and(|r| r != GRole::Member),
                Aud::Public => viewer.is_some_and(|u| self.roles[u] == Role::Admin),
                Aud::Private => false,
            };
            if !moderates {
                return false;
            }
        }
        let shared = match n.audience {
            Aud::Private => false,
            Aud::Group(g) => self.is_member(viewer, g),
            Aud::Public => true,
        };
        (own || shared)
            && n.reply_to
                .is_none_or(|parent| self.rule_reads(viewer, parent))
    }

    pub fn margin_of(&self, viewer: Viewer, book: usize) -> Margin {
        match viewer {
            None => VISITOR_MARGIN,
            Some(u) => {
                let p = &self.preferences[u];
                p.books.get(&book).copied().unwrap_or(p.account)
            }
        }
    }

    /// Whether the user has a note of their own (not deleted) on the passage.
    pub fn has_written(&self, user: usize, book: usize, passage: usize) -> bool {
        self.notes.iter().any(|n| {
            !n.removed && !n.deleted && n.author == user && n.book == book && n.passage == passage
        })
    }

    /// The reader's margin narrows what they may read: own notes always pass; `none` shows
    /// nothing else, `groups` only group notes, `everyone` all; muted authors never pass,
    /// except on notes they anonymized (a mute must not reveal whose those are);
    /// with my-reading-first, others' notes on a passage pass only once the reader wrote a
    /// note there or revealed it.
    fn margin_passes(&self, viewer: Viewer, note: usize, margin: Margin) -> bool {
        let n = &self.notes[note];
        if self.own(viewer, note) {
            return true;
        }
        let by_mode = match margin.mode {
            Mode::None => false,
            Mode::Groups => matches!(n.audience, Aud::Group(_)),
            Mode::Everyone => true,
        };
        let Some(user) = viewer else {
            return by_mode && !margin.reading_first;
        };
        by_mode
            && (n.anonymous || !self.mutes.contains(&(user, n.author)))
            && self.reading_first_passes(viewer, note, margin)
    }

    /// With my-reading-first, others' notes on a passage pass only once the reader wrote a
    /// note there or revealed it.
    fn reading_first_passes(&self, viewer: Viewer, note: usize, margin: Margin) -> bool {
        let n = &self.notes[note];
        let Some(user) = viewer else {
            return !margin.reading_first;
        };
        self.own(viewer, note)
            || !margin.reading_first
            || self.has_written(user, n.book, n.passage)
            || self.reveals.contains(&(user, n.book, n.passage))
    }

    /// Whether one note by id answers 200: the rule with its exception, and "my reading
    /// first" as the listing applies it.
    pub fn fetchable(&self, viewer: Viewer, note: usize) -> bool {
        let margin = self.margin_of(viewer, self.notes[note].book);
        self.by_id(viewer, note) && self.reading_first_passes(viewer, note, margin)
    }

    /// The viewer moderates the note: the group's owner and facilitators, admins for
    /// public notes; nobody their own.
    pub fn moderates(&self, viewer: usize, note: usize) -> bool {
        if self.own(Some(viewer), note) {
            return false;
        }
        match self.notes[note].audience {
            Aud::Group(g) => self.role_in(viewer, g).is_some_and(|r| r != GRole::Member),
            Aud::Public => self.roles[viewer] == Role::Admin,
            Aud::Private => false,
        }
    }

    /// Whether `viewer` reads a note signed by `author` (so may mute them).
    pub fn reads_notes_by(&self, viewer: usize, author: usize) -> bool {
        (0..self.notes.len()).any(|i| {
            let n = &self.notes[i];
            n.author == author && !n.authorless && !n.anonymous && self.may_read(Some(viewer), i)
        })
    }

    /// The notices `user` is shown on `group`'s page: changes since they joined, made by
    /// someone else, not dismissed.
    pub fn notices_for(&self, user: usize, group: usize) -> Vec<usize> {
        let joined = match self.groups[group].joined.get(&user) {
            Some(&joined) if self.role_in(user, group).is_some() => joined,
            _ => return Vec::new(),
        };
        (0..self.notices.len())
            .filter(|&i| {
                let n = &self.notices[i];
                n.group == group && n.at > joined && n.actor != user && !n.dismissed.contains(&user)
            })
            .collect()
    }

    /// Whether the thread above `note` holds a note shared with `group`.
    pub fn below_group(&self, note: usize, group: usize) -> bool {
        let mut next = self.notes[note].reply_to;
        while let Some(parent) = next {
            if self.notes[parent].audience == Aud::Group(group) {
                return true;
            }
            next = self.notes[parent].reply_to;
        }
        false
    }

    /// What a listing of `book` shows: listable, then filtered by the margin (None: the rule
    /// with its whole exception, as for one note by id).
    pub fn shown(&self, viewer: Viewer, book: usize, margin: Option<Margin>) -> BTreeSet<usize> {
        (0..self.notes.len())
            .filter(|&i| self.notes[i].book == book)
            .filter(|&i| match margin {
                Some(m) => self.listable(viewer, i) && self.margin_passes(viewer, i, m),
                None => self.by_id(viewer, i),
            })
            .collect()
    }

    pub fn replies_shown(&self, note: usize, shown: &BTreeSet<usize>) -> usize {
        shown
            .iter()
            .filter(|&&r| self.notes[r].reply_to == Some(note))
            .count()
    }

    pub fn has_replies(&self, note: usize) -> bool {
        self.notes
            .iter()
            .any(|n| !n.removed && n.reply_to == Some(note))
    }

    pub fn member_count(&self, group: usize) -> usize {
        self.groups[group].members.len()
    }

    /// What a group's end does: its notes go back to their authors as private notes, and
    /// books lose it from their list of groups.
    pub fn end_group(&mut self, group: usize) {
        self.groups[group].exists = false;
        self.groups[group].members.clear();
        for n in &mut self.notes {
            if n.audience == Aud::Group(group) {
                n.audience = Aud::Private;
                n.updated = None;
            }
        }
        for access in &mut self.books {
            if let Access::Groups(groups) = access {
                groups.retain(|&g| g != group);
            }
        }
    }
}

impl Model {
    /// What deleting an account does: owned groups pass to the longest-standing facilitator,
    /// else member, or end; memberships, mutes, reveals, preferences and reports go; shared
    /// notes lose their author when anonymized (time stamps unchanged); every other note goes,
    /// leaves first, and what others answered stays as an authorless tombstone.
    pub fn delete_account(&mut self, user: usize, anonymize: bool) {
        for g in 0..self.groups.len() {
            if self.role_in(user, g) == Some(GRole::Owner) {
                let group = &self.groups[g];
                let successor = group
                    .members
                    .iter()
                    .filter(|(u, _)| **u != user)
                    .min_by_key(|(u, r)| (**r != GRole::Facilitator, group.joined[u], **u))
                    .map(|(u, _)| *u);
                match successor {
                    Some(s) => {
                        self.groups[g].members.insert(s, GRole::Owner);
                    }
                    None => self.end_group(g),
                }
            }
            self.groups[g].members.remove(&user);
        }
        for n in &mut self.notes {
            if anonymize
                && n.author == user
                && !n.authorless
                && !n.removed
                && !n.deleted
                && n.audience != Aud::Private
            {
                n.authorless = true;
                n.anonymous = true;
            }
        }
        loop {
            let leaves: Vec<usize> = (0..self.notes.len())
                .filter(|&i| {
                    let n = &self.notes[i];
                    n.author == user && !n.authorless && !n.removed && !self.has_replies(i)
                })
                .collect();
            if leaves.is_empty() {
                break;
            }
            for i in leaves {
                self.notes[i].removed = true;
            }
        }
        for n in &mut self.notes {
            if n.author == user && !n.authorless && !n.removed {
                n.deleted = true;
                n.authorless = true;
                n.anonymous = true;
            }
        }
        self.mutes.retain(|&(a, b)| a != user && b != user);
        self.reveals.retain(|&(u, _, _)| u != user);
        self.reports.retain(|r| r.reporter != user);
        self.gone.insert(user);
    }
}

/// A word that occurs in the body of note `i` only (each starts with "zq", which the search
/// check looks for; a scenario has fewer than 100 notes, one page of search results).
pub fn word_of(i: usize) -> String {
    format!("zq{i}w")
}

/// The audience a generated one stands for when `author` writes (replying to `parent`).
pub fn resolve(model: &Model, author: usize, audience: AudGen, parent: Option<usize>) -> Aud {
    match audience {
        AudGen::Exactly(aud) => aud,
        AudGen::MyGroup(k) => {
            let mine: Vec<usize> = (0..model.groups.len())
                .filter(|&g| model.role_in(author, g).is_some())
                .collect();
            match mine.len() {
                0 => Aud::Group(k % model.groups.len()),
                n => Aud::Group(mine[k % n]),
            }
        }
        AudGen::Parent => parent.map_or(Aud::Public, |p| model.notes[p].audience),
    }
}

/// Whether everyone who may read `wider` may read `reply` (a reply's audience rule).
pub fn within(reply: Aud, wider: Aud) -> bool {
    match (reply, wider) {
        (Aud::Private, _) | (_, Aud::Public) => true,
        (Aud::Group(a), Aud::Group(b)) => a == b,
        _ => false,
    }
}
