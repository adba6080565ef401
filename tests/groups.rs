//! Study groups over HTTP on both databases: invitations and ground rules, membership,
//! roles, and what becomes of group notes when members leave or the group ends.

use crate::common::{TestApp, expect_problem, send};
use reqwest::Client;
use scholia::store::Sql;
use serde_json::{Value, json};

both_databases!(
    create_list_and_get,
    group_fields_are_validated,
    invite_preview_shows_rules_and_audience_without_joining,
    joining_requires_accepting_the_rules,
    expired_revoked_and_used_up_invites_are_refused,
    concurrent_joins_share_a_single_use_invite_once,
    non_members_get_not_found,
    open_groups_can_be_joined_by_id,
    members_list_shows_display_names_not_usernames,
    leaving_keeps_anonymizes_or_withdraws_notes,
    owner_cannot_leave_while_members_remain,
    roles_removal_and_transfer,
    deleting_a_group_returns_its_notes_to_their_authors,
);

async fn create_group(app: &TestApp, client: &Client, name: &str, open: bool) -> String {
    let group = send(client.post(app.url("/api/groups")).json(&json!({
        "name": name,
        "description": format!("{name}, reading together"),
        "rules": "Be kind. Quote fairly.",
        "open": open,
    })))
    .await;
    group["id"].as_str().unwrap().to_owned()
}

async fn invite(app: &TestApp, client: &Client, group: &str, body: Value) -> String {
    let response = client
        .post(app.url(&format!("/api/groups/{group}/invites")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let invite: Value = response.json().await.unwrap();
    invite["code"].as_str().unwrap().to_owned()
}

async fn join(app: &TestApp, client: &Client, code: &str) -> reqwest::Response {
    client
        .post(app.url("/api/groups/join"))
        .json(&json!({"code": code, "accept_rules": true}))
        .send()
        .await
        .unwrap()
}

/// A new reader who has joined `group` through a fresh invitation from `owner`.
async fn member(app: &TestApp, owner: &Client, group: &str, username: &str) -> (Client, String) {
    let (client, user) = app.reader(username).await;
    let code = invite(app, owner, group, json!({})).await;
    assert_eq!(join(app, &client, &code).await.status(), 201);
    (client, user["id"].as_str().unwrap().to_owned())
}

async fn members(app: &TestApp, client: &Client, group: &str) -> Vec<Value> {
    let list = send(client.get(app.url(&format!("/api/groups/{group}/members")))).await;
    list["items"].as_array().unwrap().clone()
}

async fn role_of(app: &TestApp, client: &Client, group: &str) -> Value {
    send(client.get(app.url(&format!("/api/groups/{group}"))))
        .await
        .get("role")
        .cloned()
        .unwrap()
}

/// A minimal book to hang notes on (the books API is built elsewhere).
async fn book(app: &TestApp) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    app.execute(
        "INSERT INTO books (id, title, authors, identifiers, toc, content_hash, search_key, created_at)
         VALUES ($1, 'A Book', '[]', '[]', '[]', $1, 'a book', 0)",
        &[&id],
    )
    .await;
    id
}

/// A note by `author`, shared with `group` or private when `group` is None.
async fn note(app: &TestApp, book: &str, author: &str, group: Option<&str>) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let audience = if group.is_some() { "group" } else { "private" };
    let sql = "INSERT INTO annotations (id, book_id, author_id, passage_id, chapter, ordinal,
                   start_pos, end_pos, exact, motivation, body, audience, group_id,
                   created_at, updated_at)
               VALUES ($1, $2, $3, 'p1', 0, 0, 0, 4, 'Call', 'commenting', 'a note', $4, $5, 0, 0)";
    app.state
        .store
        .raw()
        .execute(
            Sql::new(sql)
                .bind(&id)
                .bind(book)
                .bind(author)
                .bind(audience)
                .bind(group),
        )
        .await
        .unwrap();
    id
}

/// A note's audience, group and anonymity.
async fn note_state(app: &TestApp, id: &str) -> (String, Option<String>, bool) {
    let sql = "SELECT audience, group_id, anonymous FROM annotations WHERE id = $1";
    app.state
        .store
        .raw()
        .fetch_one(Sql::new(sql).bind(id))
        .await
        .unwrap()
}

async fn count_notes(app: &TestApp) -> i64 {
    app.state
        .store
        .raw()
        .scalar(Sql::new("SELECT COUNT(*) FROM annotations"))
        .await
        .unwrap()
}

async fn create_list_and_get(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let created = owner
        .post(app.url("/api/groups"))
        .json(&json!({"name": "  Moby Readers ", "description": "Whales", "rules": "Be kind.", "open": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["name"], "Moby Readers");
    assert_eq!(created["role"], "owner");
    assert_eq!(created["member_count"], 1);
    let id = created["id"].as_str().unwrap();

    let other = create_group(&app, &owner, "Alice Circle", true).await;
    let list = send(owner.get(app.url("/api/groups"))).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], other.as_str(), "sorted by name");
    assert!(items.iter().all(|g| g["role"] == "owner"));
    assert!(list["next_cursor"].is_null());

    let group = send(owner.get(app.url(&format!("/api/groups/{id}")))).await;
    assert_eq!(group["rules"], "Be kind.");
    assert_eq!(group["description"], "Whales");
    assert_eq!(group["open"], false);
    assert_eq!(group["member_count"], 1);
    assert_eq!(group["role"], "owner");

    let patched = send(
        owner
            .patch(app.url(&format!("/api/groups/{id}")))
            .json(&json!({"rules": "Be kind. No spoilers."})),
    )
    .await;
    assert_eq!(patched["rules"], "Be kind. No spoilers.");
    assert_eq!(patched["name"], "Moby Readers", "fields not sent stay");

    let (stranger, _) = app.reader("sten").await;
    let empty = send(stranger.get(app.url("/api/groups"))).await;
    assert_eq!(empty["items"], json!([]));
    let malformed = owner
        .get(app.url("/api/groups/not-a-uuid"))
        .send()
        .await
        .unwrap();
    let status = malformed.status().as_u16();
    assert!(status == 400 || status == 404, "{status}");
    expect_problem(malformed, status).await;
    let anonymous = app
        .client()
        .get(app.url("/api/groups"))
        .send()
        .await
        .unwrap();
    expect_problem(anonymous, 401).await;
}

async fn group_fields_are_validated(app: TestApp) {
    let (owner, _) = app.reader("vera").await;
    let long = "x".repeat(101);
    for body in [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": long}),
        json!({"description": "no name"}),
        json!({"name": "ok", "description": "d".repeat(2001)}),
        json!({"name": "ok", "rules": "r".repeat(10_001)}),
    ] {
        let refused = owner
            .post(app.url("/api/groups"))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_problem(refused, 400).await;
    }
    let most = owner
        .post(app.url("/api/groups"))
        .json(&json!({"name": "é".repeat(100), "rules": "r".repeat(10_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(most.status(), 201, "limits count characters, not bytes");
    let group = create_group(&app, &owner, "Valid", false).await;
    let refused = owner
        .patch(app.url(&format!("/api/groups/{group}")))
        .json(&json!({"name": ""}))
        .send()
        .await
        .unwrap();
    expect_problem(refused, 400).await;
}

async fn invite_preview_shows_rules_and_audience_without_joining(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let group = create_group(&app, &owner, "Moby Readers", false).await;
    let (_, bob_id) = member(&app, &owner, &group, "bob").await;
    member(&app, &owner, &group, "cleo").await;
    let promoted = owner
        .patch(app.url(&format!("/api/groups/{group}/members/{bob_id}")))
        .json(&json!({"role": "facilitator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        promoted.status(),
        200,
        "answers with the member, as other edits do"
    );
    let promoted: Value = promoted.json().await.unwrap();
    assert_eq!(promoted["user_id"], bob_id.as_str());
    assert_eq!(promoted["role"], "facilitator");
    assert_eq!(promoted["display_name"], "bob the reader");

    let code = invite(&app, &owner, &group, json!({"max_uses": 1})).await;
    let (dora, _) = app.reader("dora").await;
    let preview = send(dora.get(app.url(&format!("/api/groups/invites/{code}")))).await;
    assert_eq!(preview["group"]["name"], "Moby Readers");
    assert_eq!(preview["group"]["rules"], "Be kind. Quote fairly.");
    assert_eq!(
        preview["group"]["description"],
        "Moby Readers, reading together"
    );
    assert!(preview["group"]["role"].is_null());
    assert_eq!(preview["member_count"], 3);
    assert_eq!(preview["moderator_count"], 2, "owner and one facilitator");
    let sentence = preview["audience"].as_str().unwrap();
    assert!(
        sentence.starts_with(
            "Notes you share with this group can be read by its 3 members. 2 of them, its \
             owner and facilitators, can also hide notes in the group. "
        ),
        "{sentence}"
    );

    // Previewing joined nobody and used nothing.
    assert_eq!(members(&app, &owner, &group).await.len(), 3);
    let invites = send(owner.get(app.url(&format!("/api/groups/{group}/invites")))).await;
    let listed = invites["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["uses"], 0);
    let not_yet = dora
        .get(app.url(&format!("/api/groups/{group}/members")))
        .send()
        .await
        .unwrap();
    expect_problem(not_yet, 404).await;
    // The single use is still there for Dora.
    assert_eq!(join(&app, &dora, &code).await.status(), 201);
}

async fn joining_requires_accepting_the_rules(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let group = create_group(&app, &owner, "Readers", false).await;
    let code = invite(&app, &owner, &group, json!({"max_uses": 5})).await;
    let (bob, _) = app.reader("bob").await;
    for body in [
        json!({"code": code}),
        json!({"code": code, "accept_rules": false}),
    ] {
        let refused = bob
            .post(app.url("/api/groups/join"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let detail = expect_problem(refused, 400).await;
        assert!(detail.contains("rules must be accepted"), "{detail}");
    }
    assert_eq!(members(&app, &owner, &group).await.len(), 1);

    let joined = join(&app, &bob, &code).await;
    assert_eq!(joined.status(), 201);
    let joined: Value = joined.json().await.unwrap();
    assert_eq!(joined["role"], "member");
    assert_eq!(joined["member_count"], 2);
    // Following the link again is harmless and uses nothing.
    let again = join(&app, &bob, &code).await;
    assert_eq!(again.status(), 200);
    let invites = send(owner.get(app.url(&format!("/api/groups/{group}/invites")))).await;
    assert_eq!(invites["items"][0]["uses"], 1);
    assert_eq!(members(&app, &owner, &group).await.len(), 2);
    let mine = send(bob.get(app.url("/api/groups"))).await;
    assert_eq!(mine["items"][0]["id"], group.as_str());
    assert_eq!(mine["items"][0]["role"], "member");
}

async fn expired_revoked_and_used_up_invites_are_refused(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let group = create_group(&app, &owner, "Readers", false).await;
    let (late, _) = app.reader("late").await;

    let expired = invite(&app, &owner, &group, json!({"expires_in_hours": 1})).await;
    app.execute(
        "UPDATE invites SET expires_at = 1 WHERE code = $1",
        &[&expired],
    )
    .await;
    let revoked = invite(&app, &owner, &group, json!({})).await;
    let revoke = owner
        .delete(app.url(&format!("/api/groups/{group}/invites/{revoked}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    let used_up = invite(&app, &owner, &group, json!({"max_uses": 1})).await;
    let (first, _) = app.reader("first").await;
    assert_eq!(join(&app, &first, &used_up).await.status(), 201);

    // Gone (410) with the reason when the invitation existed; unknown (404) otherwise.
    for (code, word, status) in [
        (expired.as_str(), "expired", 410),
        (revoked.as_str(), "withdrawn", 410),
        (used_up.as_str(), "used", 410),
        ("no-such-code", "no such invitation", 404),
    ] {
        let preview = late
            .get(app.url(&format!("/api/groups/invites/{code}")))
            .send()
            .await
            .unwrap();
        let detail = expect_problem(preview, status).await;
        assert!(detail.contains(word), "{detail}");
        let detail = expect_problem(join(&app, &late, code).await, status).await;
        assert!(detail.contains(word), "{detail}");
    }
    assert_eq!(members(&app, &owner, &group).await.len(), 2);
    let unknown = owner
        .delete(app.url(&format!("/api/groups/{group}/invites/nothing")))
        .send()
        .await
        .unwrap();
    expect_problem(unknown, 404).await;
    let zero = owner
        .post(app.url(&format!("/api/groups/{group}/invites")))
        .json(&json!({"max_uses": 0}))
        .send()
        .await
        .unwrap();
    expect_problem(zero, 400).await;
}

async fn concurrent_joins_share_a_single_use_invite_once(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let group = create_group(&app, &owner, "Readers", false).await;
    let code = invite(&app, &owner, &group, json!({"max_uses": 1})).await;
    let mut readers = Vec::new();
    for i in 0..8 {
        readers.push(app.reader(&format!("racer{i}")).await.0);
    }
    let attempts = readers.iter().map(|client| join(&app, client, &code));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 410).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(members(&app, &owner, &group).await.len(), 2);
    let invites = send(owner.get(app.url(&format!("/api/groups/{group}/invites")))).await;
    assert_eq!(invites["items"][0]["uses"], 1);
}

async fn non_members_get_not_found(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let private = create_group(&app, &owner, "Private", false).await;
    let open = create_group(&app, &owner, "Open", true).await;
    let (member_client, _) = member(&app, &owner, &private, "mia").await;
    let (stranger, _) = app.reader("sten").await;

    for path in [
        format!("/api/groups/{private}"),
        format!("/api/groups/{private}/members"),
        format!("/api/groups/{open}/members"),
        format!("/api/groups/{private}/invites"),
        format!("/api/groups/{}", uuid::Uuid::new_v4()),
    ] {
        let refused = stranger.get(app.url(&path)).send().await.unwrap();
        expect_problem(refused, 404).await;
    }
    // An open group shows itself (and its rules) to anyone signed in, without a role.
    let seen = send(stranger.get(app.url(&format!("/api/groups/{open}")))).await;
    assert_eq!(seen["rules"], "Be kind. Quote fairly.");
    assert!(seen["role"].is_null());

    // Outsiders get 404 for moderation; members without the role get 403.
    let invite_body = json!({});
    let outsider = stranger
        .post(app.url(&format!("/api/groups/{private}/invites")))
        .json(&invite_body)
        .send()
        .await
        .unwrap();
    expect_problem(outsider, 404).await;
    let plain = member_client
        .post(app.url(&format!("/api/groups/{private}/invites")))
        .json(&invite_body)
        .send()
        .await
        .unwrap();
    expect_problem(plain, 403).await;
    let plain_list = member_client
        .get(app.url(&format!("/api/groups/{private}/invites")))
        .send()
        .await
        .unwrap();
    expect_problem(plain_list, 403).await;
    let outsider_patch = stranger
        .patch(app.url(&format!("/api/groups/{private}")))
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .unwrap();
    expect_problem(outsider_patch, 404).await;
    let member_patch = member_client
        .patch(app.url(&format!("/api/groups/{private}")))
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .unwrap();
    expect_problem(member_patch, 403).await;
    let outsider_delete = stranger
        .delete(app.url(&format!("/api/groups/{private}")))
        .send()
        .await
        .unwrap();
    expect_problem(outsider_delete, 404).await;
    let outsider_leave = stranger
        .post(app.url(&format!("/api/groups/{private}/leave")))
        .json(&json!({"notes": "keep"}))
        .send()
        .await
        .unwrap();
    expect_problem(outsider_leave, 404).await;
}

async fn open_groups_can_be_joined_by_id(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let open = create_group(&app, &owner, "Open", true).await;
    let closed = create_group(&app, &owner, "Closed", false).await;
    let (reader, _) = app.reader("rhea").await;
    let by_id = |group: &str, accept: bool| {
        reader
            .post(app.url("/api/groups/join"))
            .json(&json!({"group_id": group, "accept_rules": accept}))
            .send()
    };
    expect_problem(by_id(&open, false).await.unwrap(), 400).await;
    assert_eq!(by_id(&open, true).await.unwrap().status(), 201);
    assert_eq!(by_id(&open, true).await.unwrap().status(), 200);
    assert_eq!(role_of(&app, &reader, &open).await, "member");
    expect_problem(by_id(&closed, true).await.unwrap(), 404).await;
    let both = reader
        .post(app.url("/api/groups/join"))
        .json(&json!({"group_id": open, "code": "x", "accept_rules": true}))
        .send()
        .await
        .unwrap();
    expect_problem(both, 400).await;
}

async fn members_list_shows_display_names_not_usernames(app: TestApp) {
    let (owner, _) = app.reader("olga").await;
    let group = create_group(&app, &owner, "Readers", false).await;
    let hidden = app.client();
    let registered = hidden
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "secretlogin", "password": "password-x", "display_name": "Ishmael"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let code = invite(&app, &owner, &group, json!({})).await;
    assert_eq!(join(&app, &hidden, &code).await.status(), 201);

    let response = hidden
        .get(app.url(&format!("/api/groups/{group}/members")))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(!text.contains("secretlogin"), "{text}");
    assert!(!text.contains("\"username\""), "{text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["olga the reader", "Ishmael"], "owner first");
    assert_eq!(list["items"][0]["role"], "owner");
    assert_eq!(list["items"][1]["role"], "member");
    assert!(list["next_cursor"].is_null());
}

async fn leaving_keeps_anonymizes_or_withdraws_notes(app: TestApp) {
    let (owner, owner_id) = {
        let (client, user) = app.reader("olga").await;
        (client, user["id"].as_str().unwrap().to_owned())
    };
    let group = create_group(&app, &owner, "Readers", false).await;
    let book = book(&app).await;
    let owners_note = note(&app, &book, &owner_id, Some(&group)).await;
    let mut cases = Vec::new();
    for (name, choice) in [("kai", "keep"), ("ana", "anonymize"), ("wil", "withdraw")] {
        let (client, id) = member(&app, &owner, &group, name).await;
        let shared = note(&app, &book, &id, Some(&group)).await;
        let private = note(&app, &book, &id, None).await;
        cases.push((client, choice, shared, private));
    }
    for (client, choice, _, _) in &cases {
        let left = send(
            client
                .post(app.url(&format!("/api/groups/{group}/leave")))
                .json(&json!({"notes": choice})),
        )
        .await;
        assert_eq!(left["group_deleted"], false);
        let mine = send(client.get(app.url("/api/groups"))).await;
        assert_eq!(mine["items"], json!([]), "{choice}: no longer a member");
    }
    let [keep, anonymize, withdraw] = &cases[..] else {
        unreachable!()
    };
    assert_eq!(
        note_state(&app, &keep.2).await,
        ("group".to_owned(), Some(group.clone()), false)
    );
    assert_eq!(
        note_state(&app, &anonymize.2).await,
        ("group".to_owned(), Some(group.clone()), true)
    );
    assert_eq!(
        note_state(&app, &withdraw.2).await,
        ("private".to_owned(), None, false)
    );
    for (_, choice, _, private) in &cases {
        assert_eq!(
            note_state(&app, private).await,
            ("private".to_owned(), None, false),
            "{choice}: private notes untouched"
        );
    }
    assert_eq!(
        note_state(&app, &owners_note).await,
        ("group".to_owned(), Some(group.clone()), false),
        "other members' notes untouched"
    );
    assert_eq!(members(&app, &owner, &group).await.len(), 1);
    let bad_choice = owner
        .post(app.url(&format!("/api/groups/{group}/leave")))
        .json(&json!({"notes": "shred"}))
        .send()
        .await
        .unwrap();
    expect_problem(bad_choice, 400).await;
}

async fn owner_cannot_leave_while_members_remain(app: TestApp) {
    let (owner, owner_user) = app.reader("olga").await;
    let owner_id = owner_user["id"].as_str().unwrap();
    let group = create_group(&app, &owner, "Readers", false).await;
    let (bob, _) = member(&app, &owner, &group, "bob").await;
    let book = book(&app).await;
    let owners_note = note(&app, &book, owner_id, Some(&group)).await;

    let refused = owner
        .post(app.url(&format!("/api/groups/{group}/leave")))
        .json(&json!({"notes": "keep"}))
        .send()
        .await
        .unwrap();
    let detail = expect_problem(refused, 409).await;
    assert!(detail.contains("transfer"), "{detail}");
    assert_eq!(members(&app, &owner, &group).await.len(), 2);

    send(
        bob.post(app.url(&format!("/api/groups/{group}/leave")))
            .json(&json!({"notes": "keep"})),
    )
    .await;
    // The last member leaving ends the group; their notes go back to them as private.
    let left = send(
        owner
            .post(app.url(&format!("/api/groups/{group}/leave")))
            .json(&json!({"notes": "keep"})),
    )
    .await;
    assert_eq!(left["group_deleted"], true);
    assert_eq!(
        note_state(&app, &owners_note).await,
        ("private".to_owned(), None, false)
    );
    let gone = owner
        .get(app.url(&format!("/api/groups/{group}")))
        .send()
        .await
        .unwrap();
    expect_problem(gone, 404).await;
}

async fn roles_removal_and_transfer(app: TestApp) {
    let (owner, owner_user) = app.reader("olga").await;
    let owner_id = owner_user["id"].as_str().unwrap().to_owned();
    let group = create_group(&app, &owner, "Readers", false).await;
    let (bob, bob_id) = member(&app, &owner, &group, "bob").await;
    let (cleo, cleo_id) = member(&app, &owner, &group, "cleo").await;
    let (dan, dan_id) = member(&app, &owner, &group, "dan").await;
    let (_, stranger_id) = {
        let (client, user) = app.reader("sten").await;
        (client, user["id"].as_str().unwrap().to_owned())
    };
    let member_url = |id: &str| app.url(&format!("/api/groups/{group}/members/{id}"));
    let set_role = |client: &Client, id: &str, role: &str| {
        client
            .patch(member_url(id))
            .json(&json!({"role": role}))
            .send()
    };

    expect_problem(set_role(&bob, &cleo_id, "facilitator").await.unwrap(), 403).await;
    expect_problem(set_role(&owner, &bob_id, "owner").await.unwrap(), 400).await;
    expect_problem(
        set_role(&owner, &stranger_id, "facilitator").await.unwrap(),
        404,
    )
    .await;
    assert_eq!(
        set_role(&owner, &bob_id, "facilitator")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(role_of(&app, &bob, &group).await, "facilitator");
    expect_problem(set_role(&bob, &dan_id, "facilitator").await.unwrap(), 403).await;

    // A facilitator invites and removes plain members, but not the owner.
    invite(&app, &bob, &group, json!({})).await;
    let book = book(&app).await;
    let cleos_note = note(&app, &book, &cleo_id, Some(&group)).await;
    let removed = bob.delete(member_url(&cleo_id)).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    let gone = cleo
        .get(app.url(&format!("/api/groups/{group}")))
        .send()
        .await
        .unwrap();
    expect_problem(gone, 404).await;
    assert_eq!(
        note_state(&app, &cleos_note).await,
        ("group".to_owned(), Some(group.clone()), false),
        "a removed member's notes stay with the group"
    );
    expect_problem(bob.delete(member_url(&owner_id)).send().await.unwrap(), 403).await;
    expect_problem(dan.delete(member_url(&bob_id)).send().await.unwrap(), 403).await;
    expect_problem(
        owner.delete(member_url(&owner_id)).send().await.unwrap(),
        409,
    )
    .await;

    // Transfer: only the owner, only to a member; the old owner stays as facilitator.
    let transfer = |client: &Client, id: &str| {
        client
            .post(app.url(&format!("/api/groups/{group}/transfer")))
            .json(&json!({"user_id": id}))
            .send()
    };
    expect_problem(transfer(&bob, &bob_id).await.unwrap(), 403).await;
    expect_problem(transfer(&owner, &stranger_id).await.unwrap(), 404).await;
    expect_problem(transfer(&owner, &cleo_id).await.unwrap(), 404).await;
    assert_eq!(transfer(&owner, &dan_id).await.unwrap().status(), 204);
    assert_eq!(role_of(&app, &dan, &group).await, "owner");
    assert_eq!(role_of(&app, &owner, &group).await, "facilitator");
    let owners: Vec<Value> = members(&app, &dan, &group)
        .await
        .into_iter()
        .filter(|m| m["role"] == "owner")
        .collect();
    assert_eq!(owners.len(), 1);
    let old_owner_delete = owner
        .delete(app.url(&format!("/api/groups/{group}")))
        .send()
        .await
        .unwrap();
    expect_problem(old_owner_delete, 403).await;
    // The new owner may now remove the old one, who as facilitator could not remove them.
    expect_problem(owner.delete(member_url(&dan_id)).send().await.unwrap(), 403).await;
    assert_eq!(
        dan.delete(member_url(&owner_id))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(members(&app, &dan, &group).await.len(), 2);
}

async fn deleting_a_group_returns_its_notes_to_their_authors(app: TestApp) {
    let (owner, owner_user) = app.reader("olga").await;
    let owner_id = owner_user["id"].as_str().unwrap().to_owned();
    let group = create_group(&app, &owner, "Readers", false).await;
    let other_group = create_group(&app, &owner, "Others", false).await;
    let (bob, bob_id) = member(&app, &owner, &group, "bob").await;
    let book = book(&app).await;
    let in_group = [
        note(&app, &book, &owner_id, Some(&group)).await,
        note(&app, &book, &bob_id, Some(&group)).await,
        note(&app, &book, &bob_id, Some(&group)).await,
    ];
    let elsewhere = note(&app, &book, &owner_id, Some(&other_group)).await;
    let private = note(&app, &book, &bob_id, None).await;
    let before = count_notes(&app).await;

    let refused = bob
        .delete(app.url(&format!("/api/groups/{group}")))
        .send()
        .await
        .unwrap();
    expect_problem(refused, 403).await;
    let deleted = owner
        .delete(app.url(&format!("/api/groups/{group}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    assert_eq!(count_notes(&app).await, before, "no note is lost");
    for id in &in_group {
        assert_eq!(
            note_state(&app, id).await,
            ("private".to_owned(), None, false)
        );
    }
    let authors: i64 = app
        .state
        .store
        .raw()
        .scalar(
            Sql::new(
                "SELECT COUNT(*) FROM annotations WHERE author_id = $1 AND audience = 'private'",
            )
            .bind(&bob_id),
        )
        .await
        .unwrap();
    assert_eq!(authors, 3, "bob keeps both group notes and his private one");
    assert_eq!(
        note_state(&app, &elsewhere).await,
        ("group".to_owned(), Some(other_group.clone()), false)
    );
    assert_eq!(
        note_state(&app, &private).await,
        ("private".to_owned(), None, false)
    );
    let gone = owner
        .get(app.url(&format!("/api/groups/{group}")))
        .send()
        .await
        .unwrap();
    expect_problem(gone, 404).await;
    let bobs = send(bob.get(app.url("/api/groups"))).await;
    assert_eq!(bobs["items"], json!([]));
}
