//! The generated scenarios (users, groups, books and a sequence of operations) and how each
//! operation is applied over HTTP and, at the same time, to the model, which predicts its
//! status.

use scholia::store::Sql;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use proptest::prelude::*;
use reqwest::Client;
use scholia::store::users::Role;
use serde_json::{Value, json};

use super::Check;
use super::model::*;
use crate::common::{Backend, TestApp};

#[derive(Clone, Debug)]
pub struct GroupSpec {
    pub owner: usize,
    /// Created open: any signed-in reader may join it by its id.
    pub open: bool,
    /// Joined after creation; a facilitator is promoted by the owner. Duplicates and the
    /// owner are skipped.
    pub members: Vec<(usize, GRole)>,
}

#[derive(Clone, Debug)]
pub enum Op {
    Note {
        author: usize,
        book: usize,
        passage: usize,
        audience: AudGen,
    },
    /// With `any`, `parent` indexes every note ever written (modulo their number); else the
    /// notes the author may read now, so most replies can be written.
    Reply {
        author: usize,
        parent: usize,
        any: bool,
        audience: AudGen,
    },
    Hide {
        note: usize,
    },
    Mute {
        user: usize,
        target: usize,
    },
    Unmute {
        user: usize,
        target: usize,
    },
    /// A book override set, or removed (`None`), merged into the stored ones.
    Preferences {
        user: usize,
        margin: Mode,
        reading_first: bool,
        show_blind: Option<bool>,
        book: Option<(usize, Option<(Mode, bool)>)>,
    },
    Reveal {
        user: usize,
        book: usize,
        passage: usize,
    },
    /// By invitation, or (`by_id`) asking to join an open group by its id.
    Join {
        user: usize,
        group: usize,
        by_id: bool,
    },
    Leave {
        user: usize,
        group: usize,
        notes: LeaveNotes,
    },
    /// By the note's author, or by `other` when given.
    Delete {
        note: usize,
        other: Option<usize>,
    },
    /// The note's author changes its audience.
    Edit {
        note: usize,
        audience: AudGen,
    },
    Access {
        book: usize,
        access: Access,
    },
    /// `actor` removes `target` from the group; their notes stay with it.
    Remove {
        actor: usize,
        group: usize,
        target: usize,
    },
    /// `actor` makes `target` a facilitator or a member.
    SetRole {
        actor: usize,
        group: usize,
        target: usize,
        role: GRole,
    },
    /// `actor` hands the group to `target`.
    Transfer {
        actor: usize,
        group: usize,
        target: usize,
    },
    /// `actor` ends the group; its notes go back to their authors.
    DeleteGroup {
        actor: usize,
        group: usize,
    },
    /// `actor` opens the group or makes it invite-only.
    Open {
        actor: usize,
        group: usize,
        open: bool,
    },
    /// `reporter` reports a note (indexing every note ever written).
    Report {
        reporter: usize,
        note: usize,
    },
    /// `actor` hides or shows a note through the API, as a moderator would.
    Moderate {
        actor: usize,
        note: usize,
        hidden: bool,
    },
    /// `actor` rewrites the group's ground rules.
    Rules {
        actor: usize,
        group: usize,
    },
    /// `user` dismisses the first notice their group shows them.
    Dismiss {
        user: usize,
        group: usize,
    },
    /// `user` deletes their account, anonymizing their shared notes or deleting them.
    DeleteAccount {
        user: usize,
        anonymize: bool,
    },
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub roles: Vec<Role>,
    pub groups: Vec<GroupSpec>,
    pub books: Vec<Access>,
    pub ops: Vec<Op>,
}

pub const BOOKS: [&str; 2] = ["trees.epub", "wasteland.epub"];
pub const PASSAGES: usize = 3;

pub fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::None), Just(Mode::Groups), Just(Mode::Everyone)]
}

pub fn audience(groups: usize) -> impl Strategy<Value = AudGen> {
    prop_oneof![
        3 => Just(AudGen::Exactly(Aud::Private)),
        1 => (0..groups).prop_map(|g| AudGen::Exactly(Aud::Group(g))),
        4 => (0..3usize).prop_map(AudGen::MyGroup),
        3 => Just(AudGen::Exactly(Aud::Public)),
        2 => Just(AudGen::Parent),
    ]
}

pub fn access(groups: usize) -> impl Strategy<Value = Access> {
    prop_oneof![
        3 => Just(Access::Public),
        2 => Just(Access::SignedIn),
        2 => prop::collection::btree_set(0..groups, 1..=groups)
            .prop_map(|set| Access::Groups(set.into_iter().collect())),
    ]
}

pub fn op(users: usize, groups: usize) -> impl Strategy<Value = Op> {
    let user = 0..users;
    let note = 0..64usize;
    prop_oneof![
        20 => (user.clone(), 0..BOOKS.len(), 0..PASSAGES, audience(groups)).prop_map(
            |(author, book, passage, audience)| Op::Note { author, book, passage, audience }
        ),
        12 => (user.clone(), note.clone(), prop::bool::weighted(0.2), audience(groups)).prop_map(
            |(author, parent, any, audience)| Op::Reply { author, parent, any, audience }
        ),
        2 => note.clone().prop_map(|note| Op::Hide { note }),
        1 => (user.clone(), user.clone()).prop_map(|(user, target)| Op::Mute { user, target }),
        1 => (user.clone(), user.clone()).prop_map(|(user, target)| Op::Unmute { user, target }),
        3 => (
            user.clone(),
            mode(),
            any::<bool>(),
            prop::option::of(any::<bool>()),
            prop::option::of((0..BOOKS.len(), prop::option::weighted(0.8, (mode(), any::<bool>()))))
        )
            .prop_map(|(user, margin, reading_first, show_blind, book)| Op::Preferences {
                user,
                margin,
                reading_first,
                show_blind,
                book
            }),
        2 => (user.clone(), 0..BOOKS.len(), 0..PASSAGES)
            .prop_map(|(user, book, passage)| Op::Reveal { user, book, passage }),
        2 => (user.clone(), 0..groups, any::<bool>())
            .prop_map(|(user, group, by_id)| Op::Join { user, group, by_id }),
        2 => (
            user.clone(),
            0..groups,
            prop_oneof![
                Just(LeaveNotes::Keep),
                Just(LeaveNotes::Anonymize),
                Just(LeaveNotes::Withdraw)
            ]
        )
            .prop_map(|(user, group, notes)| Op::Leave { user, group, notes }),
        3 => (note.clone(), prop::option::weighted(0.25, user.clone()))
            .prop_map(|(note, other)| Op::Delete { note, other }),
        2 => (note.clone(), audience(groups))
            .prop_map(|(note, audience)| Op::Edit { note, audience }),
        1 => (0..BOOKS.len(), access(groups)).prop_map(|(book, access)| Op::Access { book, access }),
        1 => (user.clone(), 0..groups, user.clone())
            .prop_map(|(actor, group, target)| Op::Remove { actor, group, target }),
        1 => (
            user.clone(),
            0..groups,
            user.clone(),
            prop_oneof![Just(GRole::Facilitator), Just(GRole::Member)]
        )
            .prop_map(|(actor, group, target, role)| Op::SetRole { actor, group, target, role }),
        1 => (user.clone(), 0..groups, user.clone())
            .prop_map(|(actor, group, target)| Op::Transfer { actor, group, target }),
        1 => (user.clone(), 0..groups).prop_map(|(actor, group)| Op::DeleteGroup { actor, group }),
        2 => (user.clone(), 0..groups, prop::bool::weighted(0.7))
            .prop_map(|(actor, group, open)| Op::Open { actor, group, open }),
        3 => (user.clone(), note.clone())
            .prop_map(|(reporter, note)| Op::Report { reporter, note }),
        2 => (user.clone(), note.clone(), prop::bool::weighted(0.7))
            .prop_map(|(actor, note, hidden)| Op::Moderate { actor, note, hidden }),
        2 => (user.clone(), 0..groups).prop_map(|(actor, group)| Op::Rules { actor, group }),
        2 => (user.clone(), 0..groups).prop_map(|(user, group)| Op::Dismiss { user, group }),
        1 => (user, any::<bool>())
            .prop_map(|(user, anonymize)| Op::DeleteAccount { user, anonymize }),
    ]
}

pub fn scenario() -> impl Strategy<Value = Scenario> {
    (3usize..=6, 1usize..=3).prop_flat_map(|(users, groups)| {
        let role = prop_oneof![
            8 => Just(Role::Reader),
            1 => Just(Role::Admin),
            1 => Just(Role::Librarian),
        ];
        let grole = prop_oneof![2 => Just(GRole::Member), 1 => Just(GRole::Facilitator)];
        let group = (
            0..users,
            prop::bool::weighted(0.3),
            prop::collection::vec((0..users, grole), 0..=users),
        )
            .prop_map(|(owner, open, members)| GroupSpec {
                owner,
                open,
                members,
            });
        (
            prop::collection::vec(role, users),
            prop::collection::vec(group, groups),
            prop::collection::vec(access(groups), BOOKS.len()),
            prop::collection::vec(op(users, groups), 30..80),
        )
            .prop_map(|(roles, groups, books, ops)| Scenario {
                roles,
                groups,
                books,
                ops,
            })
    })
}

pub struct World {
    pub app: TestApp,
    /// One signed-in client per user, then the librarian who manages the catalogue.
    pub clients: Vec<Client>,
    pub user_ids: Vec<String>,
    pub anonymous: Client,
    pub librarian: Client,
    pub group_ids: Vec<String>,
    pub book_ids: Vec<String>,
    /// Per book, the passages notes are written on: (id, text, chapter).
    pub passages: Vec<Vec<(String, String, i64)>>,
    pub model: Model,
    /// For failure messages: every op with what happened.
    pub log: String,
    /// Items compared with the oracle, and writes by answer status (for the summary).
    pub compared: std::cell::Cell<usize>,
    pub statuses: BTreeMap<u16, usize>,
}

/// Asserts the status the model predicted, counting statuses for the summary.
macro_rules! expect_status {
    ($world:expr, $status:expr, $expected:expr, $($arg:tt)*) => {
        *$world.statuses.entry($status).or_default() += 1;
        ensure!($status == $expected, $($arg)*);
    };
}

pub async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn ok(request: reqwest::RequestBuilder) -> Value {
    let (status, body) = call(request).await;
    assert!((200..300).contains(&status), "{status}: {body}");
    body
}

pub fn audience_json(world: &World, audience: Aud) -> Value {
    match audience {
        Aud::Private => json!("private"),
        Aud::Public => json!("public"),
        Aud::Group(g) => json!({ "group": world.group_ids[g] }),
    }
}

fn access_json(world: &World, access: &Access) -> Value {
    match access {
        Access::Public => json!({"access": "public"}),
        Access::SignedIn => json!({"access": "signed_in"}),
        Access::Groups(groups) => json!({
            "access": "groups",
            "groups": groups.iter().map(|&g| world.group_ids[g].clone()).collect::<Vec<_>>(),
        }),
    }
}

pub async fn setup(backend: Backend, scenario: &Scenario) -> Option<World> {
    let app = TestApp::start(backend).await?;
    let (librarian, _) = app.user_with_role("librarian", Role::Librarian).await;
    let mut book_ids = Vec::new();
    let mut passages = Vec::new();
    for fixture in BOOKS {
        let response = app.upload(&librarian, fixture, &[]).await;
        assert!(response.status().is_success(), "import {fixture}");
        let book: Value = response.json().await.unwrap();
        let id = book["id"].as_str().unwrap().to_owned();
        let all = ok(librarian.get(app.url(&format!("/api/books/{id}/passages")))).await;
        let long: Vec<(String, String, i64)> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["text"].as_str().unwrap().chars().count() >= 12)
            .map(|p| {
                (
                    p["id"].as_str().unwrap().to_owned(),
                    p["text"].as_str().unwrap().to_owned(),
                    p["chapter"].as_i64().unwrap(),
                )
            })
            .collect();
        assert!(long.len() >= PASSAGES, "{fixture} has too few passages");
        // The first two and the last: notes in more than one chapter, for reading order.
        let chosen = vec![
            long[0].clone(),
            long[1].clone(),
            long[long.len() - 1].clone(),
        ];
        book_ids.push(id);
        passages.push(chosen);
    }

    let mut clients = Vec::new();
    let mut user_ids = Vec::new();
    for (i, role) in scenario.roles.iter().enumerate() {
        let name = format!("u{i}");
        let (client, user) = match role {
            Role::Reader => app.reader(&name).await,
            role => app.user_with_role(&name, *role).await,
        };
        clients.push(client);
        user_ids.push(user["id"].as_str().unwrap().to_owned());
    }
    let mut roles = scenario.roles.clone();
    // The librarian is a viewer too (every book, no notes).
    roles.push(Role::Librarian);
    user_ids.push(
        ok(librarian.get(app.url("/api/me"))).await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    let mut groups = Vec::new();
    let mut group_ids = Vec::new();
    let mut joins = 0;
    for (g, spec) in scenario.groups.iter().enumerate() {
        let owner = &clients[spec.owner];
        let group = ok(owner.post(app.url("/api/groups")).json(&json!({
            "name": format!("group {g}"), "description": "", "rules": "Be kind.", "open": spec.open,
        })))
        .await;
        let id = group["id"].as_str().unwrap().to_owned();
        let mut members = BTreeMap::from([(spec.owner, GRole::Owner)]);
        let mut joined = BTreeMap::from([(spec.owner, joins)]);
        joins += 1;
        for &(user, role) in &spec.members {
            if members.contains_key(&user) {
                continue;
            }
            let invite = ok(owner
                .post(app.url(&format!("/api/groups/{id}/invites")))
                .json(&json!({})))
            .await;
            ok(clients[user]
                .post(app.url("/api/groups/join"))
                .json(&json!({"code": invite["code"], "accept_rules": true})))
            .await;
            if role == GRole::Facilitator {
                let target = &user_ids[user];
                ok(owner
                    .patch(app.url(&format!("/api/groups/{id}/members/{target}")))
                    .json(&json!({"role": "facilitator"})))
                .await;
            }
            members.insert(user, role);
            joined.insert(user, joins);
            joins += 1;
        }
        groups.push(Group {
            exists: true,
            open: spec.open,
            members,
            joined,
        });
        group_ids.push(id);
    }

    let users = roles.len();
    let mut world = World {
        clients,
        user_ids,
        anonymous: app.client(),
        librarian,
        group_ids,
        book_ids,
        passages,
        model: Model {
            roles,
            groups,
            books: vec![Access::Public; BOOKS.len()],
            notes: Vec::new(),
            preferences: vec![
                Preferences {
                    account: DEFAULT_MARGIN,
                    show_written_blind: false,
                    books: BTreeMap::new(),
                };
                users
            ],
            mutes: BTreeSet::new(),
            reveals: BTreeSet::new(),
            reports: Vec::new(),
            notices: Vec::new(),
            gone: BTreeSet::new(),
            joins,
        },
        log: String::new(),
        compared: std::cell::Cell::new(0),
        statuses: BTreeMap::new(),
        app,
    };
    for (book, access) in scenario.books.iter().enumerate() {
        set_access(&mut world, book, access).await;
    }
    world.clients.push(world.librarian.clone());
    Some(world)
}

async fn set_access(world: &mut World, book: usize, access: &Access) {
    // Only groups that still exist can be listed.
    let access = match access {
        Access::Groups(groups) => {
            let live: Vec<usize> = groups
                .iter()
                .copied()
                .filter(|&g| world.model.groups[g].exists)
                .collect();
            if live.is_empty() {
                return;
            }
            Access::Groups(live)
        }
        other => other.clone(),
    };
    let id = &world.book_ids[book];
    ok(world
        .librarian
        .patch(world.app.url(&format!("/api/books/{id}")))
        .json(&access_json(world, &access)))
    .await;
    world.model.books[book] = access;
}

/// Applies one op to the server and the model; the model predicts the server's status.
/// The user who acts in `op`, when the op names them (a deleted account acts no more).
fn acting_user(op: &Op) -> Option<usize> {
    match *op {
        Op::Note { author, .. } | Op::Reply { author, .. } => Some(author),
        Op::Mute { user, .. }
        | Op::Unmute { user, .. }
        | Op::Preferences { user, .. }
        | Op::Reveal { user, .. }
        | Op::Join { user, .. }
        | Op::Leave { user, .. }
        | Op::Dismiss { user, .. }
        | Op::DeleteAccount { user, .. } => Some(user),
        Op::Remove { actor, .. }
        | Op::SetRole { actor, .. }
        | Op::Transfer { actor, .. }
        | Op::DeleteGroup { actor, .. }
        | Op::Open { actor, .. }
        | Op::Rules { actor, .. }
        | Op::Moderate { actor, .. } => Some(actor),
        Op::Report { reporter, .. } => Some(reporter),
        Op::Delete { other, .. } => other,
        Op::Hide { .. } | Op::Edit { .. } | Op::Access { .. } => None,
    }
}

/// Whether the author's "my reading first" keeps others' notes on the passage from them
/// as they write there.
fn writes_blind(model: &Model, author: usize, book: usize, passage: usize) -> bool {
    model.margin_of(Some(author), book).reading_first
        && !model.has_written(author, book, passage)
        && !model.reveals.contains(&(author, book, passage))
}

pub async fn apply(world: &mut World, index: usize, op: &Op) -> Check {
    let model = &world.model;
    let notes = model.notes.len();
    let pick = |n: usize| (notes > 0).then(|| n % notes);
    let _ = writeln!(world.log, "  op {index}: {op:?}");
    if acting_user(op).is_some_and(|u| model.gone.contains(&u)) {
        return Ok(());
    }
    match *op {
        Op::Note {
            author,
            book,
            passage,
            audience,
        } => {
            let audience = match audience {
                AudGen::Parent => Aud::Private,
                other => resolve(model, author, other, None),
            };
            let expected = if !model.may_read_book(Some(author), book) {
                404
            } else if matches!(audience, Aud::Group(g) if model.role_in(author, g).is_none()) {
                403
            } else {
                201
            };
            let (passage_id, text, _) = &world.passages[book][passage];
            let end = 3 + (notes % 8);
            let exact: String = text.chars().skip(2).take(end - 2).collect();
            let body = json!({
                "book_id": world.book_ids[book],
                "passage_id": passage_id,
                "start": 2,
                "end": end,
                "exact": exact,
                "body": format!("note {notes}: {}", word_of(notes)),
                "audience": audience_json(world, audience),
            });
            let (status, answer) = call(
                world.clients[author]
                    .post(world.app.url("/api/annotations"))
                    .json(&body),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 201 {
                let id = answer["id"].as_str().unwrap().to_owned();
                let _ = writeln!(world.log, "    -> note #{notes} {id}");
                let written_blind = writes_blind(&world.model, author, book, passage);
                world.model.notes.push(Note {
                    id,
                    book,
                    passage,
                    author,
                    audience,
                    reply_to: None,
                    hidden: false,
                    deleted: false,
                    removed: false,
                    anonymous: false,
                    authorless: false,
                    written_blind,
                    updated: answer["updated"].as_str().map(str::to_owned),
                });
            }
        }
        Op::Reply {
            author,
            parent,
            any,
            audience,
        } => {
            let parent = if any {
                pick(parent)
            } else {
                let readable: Vec<usize> = (0..notes)
                    .filter(|&n| model.by_id(Some(author), n))
                    .collect();
                (!readable.is_empty()).then(|| readable[parent % readable.len()])
            };
            let Some(parent) = parent else {
                return Ok(());
            };
            let audience = resolve(model, author, audience, Some(parent));
            let _ = writeln!(world.log, "    parent #{parent}, audience {audience:?}");
            let p = &model.notes[parent];
            let expected = if !model.may_read_book(Some(author), p.book) {
                404
            } else if matches!(audience, Aud::Group(g) if model.role_in(author, g).is_none()) {
                403
            } else if !model.by_id(Some(author), parent) {
                404
            } else if p.deleted {
                410
            } else if !within(audience, p.audience) {
                400
            } else {
                201
            };
            let body = json!({
                "book_id": world.book_ids[p.book],
                "reply_to": p.id,
                "body": format!("reply {notes}: {}", word_of(notes)),
                "audience": audience_json(world, audience),
            });
            let (status, answer) = call(
                world.clients[author]
                    .post(world.app.url("/api/annotations"))
                    .json(&body),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?} (parent #{parent}): expected {expected}, got {status} {answer}"
            );
            if status == 201 {
                let id = answer["id"].as_str().unwrap().to_owned();
                let _ = writeln!(world.log, "    -> note #{notes} {id} replying to #{parent}");
                let (book, passage) = (p.book, p.passage);
                let written_blind = writes_blind(&world.model, author, book, passage);
                world.model.notes.push(Note {
                    id,
                    book,
                    passage,
                    author,
                    audience,
                    reply_to: Some(parent),
                    hidden: false,
                    deleted: false,
                    removed: false,
                    anonymous: false,
                    authorless: false,
                    written_blind,
                    updated: answer["updated"].as_str().map(str::to_owned),
                });
            }
        }
        Op::Hide { note } => {
            let Some(note) = pick(note) else {
                return Ok(());
            };
            if model.notes[note].removed {
                return Ok(());
            }
            let _ = writeln!(world.log, "    -> hides #{note}");
            let id = model.notes[note].id.clone();
            world
                .app
                .state
                .store
                .raw()
                .execute(Sql::new("UPDATE annotations SET hidden = TRUE WHERE id = $1").bind(&id))
                .await
                .unwrap();
            world.model.notes[note].hidden = true;
        }
        Op::Mute { user, target } => {
            let expected = if user == target {
                400
            } else if model.reads_notes_by(user, target) {
                204
            } else {
                404
            };
            let (status, answer) = call(
                world.clients[user]
                    .post(world.app.url("/api/me/mutes"))
                    .json(&json!({"user_id": world.user_ids[target]})),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 204 {
                world.model.mutes.insert((user, target));
            }
        }
        Op::Unmute { user, target } => {
            let expected = if model.mutes.contains(&(user, target)) {
                204
            } else {
                404
            };
            let target_id = &world.user_ids[target];
            let (status, answer) = call(
                world.clients[user].delete(world.app.url(&format!("/api/me/mutes/{target_id}"))),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            world.model.mutes.remove(&(user, target));
        }
        Op::Preferences {
            user,
            margin,
            reading_first,
            show_blind,
            book,
        } => {
            let mut books = serde_json::Map::new();
            let mut expected = 200;
            if let Some((book, entry)) = book {
                let value = match entry {
                    Some((mode, first)) => {
                        if !model.may_read_book(Some(user), book) {
                            expected = 404;
                        }
                        json!({"margin": mode.as_str(), "my_reading_first": first})
                    }
                    None => Value::Null,
                };
                books.insert(world.book_ids[book].clone(), value);
            }
            let mut body = json!({
                "margin": margin.as_str(),
                "my_reading_first": reading_first,
                "books": books,
            });
            if let Some(show) = show_blind {
                body["show_written_blind"] = json!(show);
            }
            let (status, answer) = call(
                world.clients[user]
                    .put(world.app.url("/api/me/preferences"))
                    .json(&body),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 200 {
                // Books merge entry by entry: a book named gets its override or loses it.
                let p = &mut world.model.preferences[user];
                p.account = Margin {
                    mode: margin,
                    reading_first,
                };
                if let Some(show) = show_blind {
                    p.show_written_blind = show;
                }
                match book {
                    Some((book, Some((mode, first)))) => {
                        p.books.insert(
                            book,
                            Margin {
                                mode,
                                reading_first: first,
                            },
                        );
                    }
                    Some((book, None)) => {
                        p.books.remove(&book);
                    }
                    None => {}
                }
            }
        }
        Op::Reveal {
            user,
            book,
            passage,
        } => {
            let expected = if model.may_read_book(Some(user), book) {
                204
            } else {
                404
            };
            let (book_id, passage_id) = (&world.book_ids[book], &world.passages[book][passage].0);
            let (status, answer) = call(world.clients[user].post(world.app.url(&format!(
                "/api/books/{book_id}/passages/{passage_id}/reveal"
            ))))
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 204 {
                world.model.reveals.insert((user, book, passage));
            }
        }
        Op::Join {
            user,
            group,
            by_id: true,
        } => {
            let g = &model.groups[group];
            if !g.exists || g.members.contains_key(&user) {
                return Ok(());
            }
            let expected = if g.open { 201 } else { 404 };
            let (status, answer) = call(
                world.clients[user]
                    .post(world.app.url("/api/groups/join"))
                    .json(&json!({"group_id": world.group_ids[group], "accept_rules": true})),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 201 {
                let model = &mut world.model;
                model.groups[group].members.insert(user, GRole::Member);
                model.groups[group].joined.insert(user, model.joins);
                model.joins += 1;
            }
        }
        Op::Join { user, group, .. } => {
            let g = &model.groups[group];
            if !g.exists || g.members.contains_key(&user) {
                return Ok(());
            }
            let owner = g
                .members
                .iter()
                .find(|(_, r)| **r == GRole::Owner)
                .map(|(u, _)| *u)
                .expect("a live group has an owner");
            let id = &world.group_ids[group];
            let invite = ok(world.clients[owner]
                .post(world.app.url(&format!("/api/groups/{id}/invites")))
                .json(&json!({})))
            .await;
            let (status, answer) = call(
                world.clients[user]
                    .post(world.app.url("/api/groups/join"))
                    .json(&json!({"code": invite["code"], "accept_rules": true})),
            )
            .await;
            ensure!(
                status == 201,
                "op {index} {op:?}: expected 201, got {status} {answer}"
            );
            let model = &mut world.model;
            model.groups[group].members.insert(user, GRole::Member);
            model.groups[group].joined.insert(user, model.joins);
            model.joins += 1;
        }
        Op::Leave { user, group, notes } => {
            let role = model.role_in(user, group);
            let members = model.member_count(group);
            let expected = match role {
                None => 404,
                Some(GRole::Owner) if members > 1 => 409,
                Some(_) => 200,
            };
            let id = &world.group_ids[group];
            let (status, answer) = call(
                world.clients[user]
                    .post(world.app.url(&format!("/api/groups/{id}/leave")))
                    .json(&json!({"notes": notes.as_str()})),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 200 {
                // The leaver's notes the group reads: shared with it, or below such a note.
                let leavers: Vec<usize> = (0..model.notes.len())
                    .filter(|&i| {
                        let n = &model.notes[i];
                        n.author == user
                            && !n.authorless
                            && !n.removed
                            && (n.audience == Aud::Group(group) || model.below_group(i, group))
                    })
                    .collect();
                let model = &mut world.model;
                for i in leavers {
                    let n = &mut model.notes[i];
                    match notes {
                        LeaveNotes::Keep => {}
                        // Time stamps stay as they were.
                        LeaveNotes::Anonymize => n.anonymous = true,
                        LeaveNotes::Withdraw => {
                            n.audience = Aud::Private;
                            n.updated = None;
                        }
                    }
                }
                model.groups[group].members.remove(&user);
                if members == 1 {
                    let _ = writeln!(world.log, "    -> group {group} ends");
                    model.end_group(group);
                }
            }
        }
        Op::Delete { note, other } => {
            let Some(note) = pick(note) else {
                return Ok(());
            };
            let n = &model.notes[note];
            let actor = other.unwrap_or(n.author);
            if model.gone.contains(&actor) {
                return Ok(());
            }
            let expected = if !model.by_id(Some(actor), note) {
                404
            } else if n.deleted {
                410
            } else if !model.own(Some(actor), note) {
                403
            } else {
                204
            };
            let id = &n.id;
            let (status, answer) =
                call(world.clients[actor].delete(world.app.url(&format!("/api/annotations/{id}"))))
                    .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?} (#{note}): expected {expected}, got {status} {answer}"
            );
            if status == 204 {
                let tombstone = model.has_replies(note);
                let _ = writeln!(
                    world.log,
                    "    -> #{note} {}",
                    if tombstone { "tombstoned" } else { "removed" }
                );
                let n = &mut world.model.notes[note];
                if tombstone {
                    // A tombstone names nobody.
                    n.deleted = true;
                    n.authorless = true;
                    n.anonymous = true;
                    n.updated = None;
                } else {
                    n.removed = true;
                }
            }
        }
        Op::Edit { note, audience } => {
            let Some(note) = pick(note) else {
                return Ok(());
            };
            let n = &model.notes[note];
            let author = n.author;
            if model.gone.contains(&author) {
                return Ok(());
            }
            let audience = resolve(model, author, audience, n.reply_to);
            let _ = writeln!(world.log, "    #{note} to {audience:?}");
            // Out of the book or the note's group, its author may only make it private.
            let out_of_reach = !model.may_read_book(Some(author), n.book)
                || matches!(n.audience, Aud::Group(g) if model.role_in(author, g).is_none());
            let expected = if !model.by_id(Some(author), note) {
                404
            } else if n.deleted {
                410
            } else if !model.own(Some(author), note) {
                403
            } else if audience == Aud::Private {
                200
            } else if out_of_reach
                || matches!(audience, Aud::Group(g) if model.role_in(author, g).is_none())
            {
                403
            } else if n.reply_to.is_some_and(|p| {
                !model.by_id(Some(author), p) || !within(audience, model.notes[p].audience)
            }) {
                400
            } else {
                200
            };
            let id = &n.id;
            let (status, answer) = call(
                world.clients[author]
                    .patch(world.app.url(&format!("/api/annotations/{id}")))
                    .json(&json!({"audience": audience_json(world, audience)})),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?} (#{note}): expected {expected}, got {status} {answer}"
            );
            if status == 200 {
                let n = &mut world.model.notes[note];
                n.audience = audience;
                n.updated = answer["updated"].as_str().map(str::to_owned);
            }
        }
        Op::Access { book, ref access } => {
            set_access(world, book, access).await;
        }
        Op::Remove {
            actor,
            group,
            target,
        } => {
            let (role, target_role) = (model.role_in(actor, group), model.role_in(target, group));
            let expected = match (role, target_role) {
                (None, _) => 404,
                (Some(GRole::Member), _) => 403,
                _ if actor == target => 409,
                (_, None) => 404,
                (Some(GRole::Facilitator), Some(GRole::Owner | GRole::Facilitator)) => 403,
                _ => 204,
            };
            let (id, target_id) = (&world.group_ids[group], &world.user_ids[target]);
            let (status, answer) = call(
                world.clients[actor].delete(
                    world
                        .app
                        .url(&format!("/api/groups/{id}/members/{target_id}")),
                ),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 204 {
                world.model.groups[group].members.remove(&target);
            }
        }
        Op::SetRole {
            actor,
            group,
            target,
            role,
        } => {
            let expected = match (model.role_in(actor, group), model.role_in(target, group)) {
                (None, _) => 404,
                (Some(GRole::Facilitator | GRole::Member), _) => 403,
                (_, None) => 404,
                (_, Some(GRole::Owner)) => 409,
                _ => 200,
            };
            let (id, target_id) = (&world.group_ids[group], &world.user_ids[target]);
            let role_name = if role == GRole::Facilitator {
                "facilitator"
            } else {
                "member"
            };
            let (status, answer) = call(
                world.clients[actor]
                    .patch(
                        world
                            .app
                            .url(&format!("/api/groups/{id}/members/{target_id}")),
                    )
                    .json(&json!({ "role": role_name })),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 200 {
                world.model.groups[group].members.insert(target, role);
            }
        }
        Op::Transfer {
            actor,
            group,
            target,
        } => {
            let expected = match (model.role_in(actor, group), model.role_in(target, group)) {
                (None, _) => 404,
                (Some(GRole::Facilitator | GRole::Member), _) => 403,
                (_, None) => 404,
                _ => 204,
            };
            let id = &world.group_ids[group];
            let (status, answer) = call(
                world.clients[actor]
                    .post(world.app.url(&format!("/api/groups/{id}/transfer")))
                    .json(&json!({ "user_id": world.user_ids[target] })),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 204 && actor != target {
                let members = &mut world.model.groups[group].members;
                members.insert(actor, GRole::Facilitator);
                members.insert(target, GRole::Owner);
            }
        }
        Op::DeleteGroup { actor, group } => {
            let expected = match model.role_in(actor, group) {
                None => 404,
                Some(GRole::Owner) => 204,
                Some(_) => 403,
            };
            let id = &world.group_ids[group];
            let (status, answer) =
                call(world.clients[actor].delete(world.app.url(&format!("/api/groups/{id}"))))
                    .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 204 {
                let _ = writeln!(world.log, "    -> group {group} ends");
                world.model.end_group(group);
            }
        }
        Op::Open { actor, group, open } => {
            let g = &model.groups[group];
            let others_wrote = model.notes.iter().any(|n| {
                !n.removed && n.audience == Aud::Group(group) && (n.author != actor || n.authorless)
            });
            let expected = match model.role_in(actor, group) {
                None => 404,
                Some(GRole::Member) => 403,
                Some(role) if open && !g.open && role != GRole::Owner => 403,
                Some(_) if open && !g.open && others_wrote => 409,
                Some(_) => 200,
            };
            let id = &world.group_ids[group];
            let (status, answer) = call(
                world.clients[actor]
                    .patch(world.app.url(&format!("/api/groups/{id}")))
                    .json(&json!({ "open": open })),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 200 {
                let model = &mut world.model;
                if model.groups[group].open != open {
                    model.notices.push(Notice {
                        group,
                        kind: if open { "opened" } else { "closed" },
                        actor,
                        at: model.joins,
                        dismissed: BTreeSet::new(),
                    });
                    model.joins += 1;
                }
                model.groups[group].open = open;
            }
        }
        Op::Report { reporter, note } => {
            let Some(note) = pick(note) else {
                return Ok(());
            };
            let n = &model.notes[note];
            let expected = if !model.by_id(Some(reporter), note) {
                404
            } else if model.own(Some(reporter), note) {
                400
            } else if n.deleted {
                410
            } else if model
                .reports
                .iter()
                .any(|r| r.open && r.reporter == reporter && r.note == note)
            {
                409
            } else {
                201
            };
            let id = &n.id;
            let (status, answer) = call(
                world.clients[reporter]
                    .post(world.app.url(&format!("/api/annotations/{id}/reports")))
                    .json(&json!({ "reason": format!("u{reporter} objects") })),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?} (#{note}): expected {expected}, got {status} {answer}"
            );
            if status == 201 {
                world.model.reports.push(Report {
                    reporter,
                    note,
                    open: true,
                });
            }
        }
        Op::Moderate {
            actor,
            note,
            hidden,
        } => {
            let Some(note) = pick(note) else {
                return Ok(());
            };
            let expected = if !model.by_id(Some(actor), note) {
                404
            } else if !model.moderates(actor, note) {
                403
            } else {
                200
            };
            let id = &model.notes[note].id;
            let (status, answer) = call(
                world.clients[actor]
                    .post(world.app.url(&format!("/api/annotations/{id}/hide")))
                    .json(&json!({ "hidden": hidden })),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?} (#{note}): expected {expected}, got {status} {answer}"
            );
            if status == 200 {
                let model = &mut world.model;
                let n = &mut model.notes[note];
                n.hidden = hidden;
                n.updated = answer["updated"].as_str().map(str::to_owned);
                if hidden {
                    for r in &mut model.reports {
                        if r.note == note {
                            r.open = false;
                        }
                    }
                }
            }
        }
        Op::Rules { actor, group } => {
            let expected = match model.role_in(actor, group) {
                None => 404,
                Some(GRole::Member) => 403,
                Some(_) => 200,
            };
            let id = &world.group_ids[group];
            let (status, answer) = call(
                world.clients[actor]
                    .patch(world.app.url(&format!("/api/groups/{id}")))
                    .json(&json!({ "rules": format!("Rules of op {index}.") })),
            )
            .await;
            expect_status!(
                world,
                status,
                expected,
                "op {index} {op:?}: expected {expected}, got {status} {answer}"
            );
            if status == 200 {
                let model = &mut world.model;
                model.notices.push(Notice {
                    group,
                    kind: "rules",
                    actor,
                    at: model.joins,
                    dismissed: BTreeSet::new(),
                });
                model.joins += 1;
            }
        }
        Op::Dismiss { user, group } => {
            let Some(&first) = model.notices_for(user, group).first() else {
                return Ok(());
            };
            let id = &world.group_ids[group];
            let shown =
                ok(world.clients[user].get(world.app.url(&format!("/api/groups/{id}")))).await;
            let notice = shown["notices"][0]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let (status, answer) = call(
                world.clients[user].post(
                    world
                        .app
                        .url(&format!("/api/groups/{id}/notices/{notice}/dismiss")),
                ),
            )
            .await;
            expect_status!(
                world,
                status,
                204,
                "op {index} {op:?}: expected 204, got {status} {answer}"
            );
            world.model.notices[first].dismissed.insert(user);
        }
        Op::DeleteAccount { user, anonymize } => {
            // The librarian who manages the catalogue stays.
            if user + 1 == model.roles.len() {
                return Ok(());
            }
            let (status, answer) = call(world.clients[user].delete(world.app.url("/api/me")).json(
                &json!({
                    "password": format!("password-u{user}"),
                    "shared_notes": if anonymize { "anonymize" } else { "delete" },
                }),
            ))
            .await;
            expect_status!(
                world,
                status,
                204,
                "op {index} {op:?}: expected 204, got {status} {answer}"
            );
            world.model.delete_account(user, anonymize);
            let _ = writeln!(world.log, "    -> account u{user} deleted");
        }
    }
    Ok(())
}
