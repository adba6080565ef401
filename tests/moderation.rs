//! Moderation over HTTP on both databases: reports, the report queue, hiding, and that
//! moderators never reach a note the visibility rule keeps from them.

use crate::common::{TestApp, expect_problem, note_on, send};
use reqwest::Client;
use scholia::store::users::Role;
use serde_json::{Value, json};

both_databases!(
    reports_reach_facilitators_who_hide_the_note,
    reports_are_validated,
    only_moderators_hide,
    admins_moderate_public_notes,
    hidden_notes_stay_with_their_author_and_moderators,
    moderators_never_see_private_notes,
);

async fn report(app: &TestApp, client: &Client, note: &Value, reason: &str) -> reqwest::Response {
    client
        .post(app.url(&format!(
            "/api/annotations/{}/reports",
            note["id"].as_str().unwrap()
        )))
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .unwrap()
}

async fn hide(app: &TestApp, client: &Client, note: &Value, hidden: bool) -> reqwest::Response {
    client
        .post(app.url(&format!(
            "/api/annotations/{}/hide",
            note["id"].as_str().unwrap()
        )))
        .json(&json!({ "hidden": hidden }))
        .send()
        .await
        .unwrap()
}

async fn reports(app: &TestApp, client: &Client) -> Vec<Value> {
    let body = send(client.get(app.url("/api/reports"))).await;
    assert!(body.get("next_cursor").is_some());
    body["items"].as_array().unwrap().clone()
}

async fn listed(app: &TestApp, client: &Client, book: &str) -> Vec<Value> {
    let body =
        send(client.get(app.url(&format!("/api/books/{book}/annotations?margin=everyone")))).await;
    body["items"].as_array().unwrap().clone()
}

async fn fetch(app: &TestApp, client: &Client, note: &Value) -> reqwest::Response {
    client
        .get(app.url(&format!(
            "/api/annotations/{}",
            note["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id_of(user: &Value) -> &str {
    user["id"].as_str().unwrap()
}

/// A book, a passage on it, and a group: olga owns it, fay facilitates, ann and bob are members.
struct Circle {
    book: String,
    passage: Value,
    group: String,
    olga: Client,
    fay: Client,
    ann: Client,
    bob: Client,
}

async fn circle(app: &TestApp) -> Circle {
    let (book, passage) = app.long_passage().await;
    let (olga, _) = app.reader("olga").await;
    let (fay, fay_user) = app.reader("fay").await;
    let (ann, _) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    let group = app.group_with(&olga, &[&fay, &ann, &bob]).await;
    send(
        olga.patch(app.url(&format!("/api/groups/{group}/members/{}", id_of(&fay_user))))
            .json(&json!({"role": "facilitator"})),
    )
    .await;
    Circle {
        book,
        passage,
        group,
        olga,
        fay,
        ann,
        bob,
    }
}

async fn reports_reach_facilitators_who_hide_the_note(app: TestApp) {
    let c = circle(&app).await;
    let note = app
        .post_note(
            &c.ann,
            &note_on(
                &c.book,
                &c.passage,
                "a rude remark",
                json!({"group": c.group}),
            ),
        )
        .await;
    let filed = report(&app, &c.bob, &note, "  unkind to other readers ").await;
    assert_eq!(filed.status(), 201);
    let filed: Value = filed.json().await.unwrap();
    assert_eq!(filed["reason"], "unkind to other readers");

    for moderator in [&c.fay, &c.olga] {
        let queue = reports(&app, moderator).await;
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0]["id"], filed["id"]);
        assert_eq!(queue[0]["reason"], "unkind to other readers");
        assert_eq!(queue[0]["reporter"]["display_name"], "bob the reader");
        assert_eq!(queue[0]["annotation"]["id"], note["id"]);
        assert_eq!(queue[0]["annotation"]["body"], "a rude remark");
    }
    // Plain members, the author and the reporter have no queue.
    for reader in [&c.ann, &c.bob] {
        assert!(reports(&app, reader).await.is_empty());
    }

    let hidden = send(
        c.fay
            .post(app.url(&format!(
                "/api/annotations/{}/hide",
                note["id"].as_str().unwrap()
            )))
            .json(&json!({"hidden": true})),
    )
    .await;
    assert_eq!(hidden["hidden"], true);
    // Hiding resolves the note's reports.
    assert!(reports(&app, &c.fay).await.is_empty());
    assert!(reports(&app, &c.olga).await.is_empty());
    assert!(
        !ids(&listed(&app, &c.bob, &c.book).await)
            .contains(&note["id"].as_str().unwrap().to_owned())
    );

    // Showing it again brings it back to the group.
    assert_eq!(hide(&app, &c.olga, &note, false).await.status(), 200);
    assert_eq!(fetch(&app, &c.bob, &note).await.status(), 200);
}

async fn reports_are_validated(app: TestApp) {
    let c = circle(&app).await;
    let shared = app
        .post_note(
            &c.ann,
            &note_on(&c.book, &c.passage, "shared", json!({"group": c.group})),
        )
        .await;
    let private = app
        .post_note(
            &c.ann,
            &note_on(&c.book, &c.passage, "mine alone", json!("private")),
        )
        .await;
    expect_problem(report(&app, &c.bob, &shared, "   ").await, 400).await;
    expect_problem(report(&app, &c.bob, &shared, &"x".repeat(1001)).await, 400).await;
    expect_problem(report(&app, &c.ann, &shared, "I regret it").await, 400).await;
    expect_problem(report(&app, &c.bob, &private, "curious").await, 404).await;
    let (outsider, _) = app.reader("otto").await;
    expect_problem(report(&app, &outsider, &shared, "spam").await, 404).await;
    expect_problem(report(&app, &app.client(), &shared, "spam").await, 401).await;
    assert_eq!(
        report(&app, &c.bob, &shared, &"x".repeat(1000))
            .await
            .status(),
        201
    );
    expect_problem(report(&app, &c.bob, &shared, "again").await, 409).await;
    assert_eq!(app.count("reports").await, 1);
}

async fn only_moderators_hide(app: TestApp) {
    let c = circle(&app).await;
    let shared = app
        .post_note(
            &c.ann,
            &note_on(&c.book, &c.passage, "shared", json!({"group": c.group})),
        )
        .await;
    let private = app
        .post_note(
            &c.ann,
            &note_on(&c.book, &c.passage, "mine alone", json!("private")),
        )
        .await;
    // A member, even the author, is not a moderator.
    expect_problem(hide(&app, &c.bob, &shared, true).await, 403).await;
    expect_problem(hide(&app, &c.ann, &shared, true).await, 403).await;
    // Who cannot see a note cannot learn it exists.
    let (outsider, _) = app.reader("otto").await;
    expect_problem(hide(&app, &outsider, &shared, true).await, 404).await;
    let (admin, _) = app.user_with_role("root", Role::Admin).await;
    expect_problem(hide(&app, &admin, &shared, true).await, 404).await;
    // Private notes have no moderator: 404 for everyone else, 403 for their author.
    expect_problem(hide(&app, &c.fay, &private, true).await, 404).await;
    expect_problem(hide(&app, &c.olga, &private, true).await, 404).await;
    expect_problem(hide(&app, &admin, &private, true).await, 404).await;
    expect_problem(hide(&app, &c.ann, &private, true).await, 403).await;
    assert_eq!(fetch(&app, &c.bob, &shared).await.status(), 200);
    let unchanged: Value = fetch(&app, &c.ann, &private).await.json().await.unwrap();
    assert_eq!(unchanged["hidden"], false);
}

async fn admins_moderate_public_notes(app: TestApp) {
    let c = circle(&app).await;
    let public = app
        .post_note(
            &c.ann,
            &note_on(&c.book, &c.passage, "for all to see", json!("public")),
        )
        .await;
    let (reader, _) = app.reader("rita").await;
    let (admin, _) = app.user_with_role("root", Role::Admin).await;
    assert_eq!(report(&app, &reader, &public, "spam").await.status(), 201);
    // Group moderators do not moderate public notes; admins do.
    assert!(reports(&app, &c.fay).await.is_empty());
    let queue = reports(&app, &admin).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["annotation"]["id"], public["id"]);
    expect_problem(hide(&app, &c.fay, &public, true).await, 403).await;
    expect_problem(hide(&app, &reader, &public, true).await, 403).await;

    let hidden: Value = hide(&app, &admin, &public, true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hidden["hidden"], true);
    assert!(reports(&app, &admin).await.is_empty());
    expect_problem(fetch(&app, &reader, &public).await, 404).await;
    expect_problem(fetch(&app, &app.client(), &public).await, 404).await;
    assert!(listed(&app, &c.bob, &c.book).await.is_empty());
    let seen: Value = fetch(&app, &c.ann, &public).await.json().await.unwrap();
    assert_eq!(seen["hidden"], true);
    assert_eq!(fetch(&app, &admin, &public).await.status(), 200);
}

async fn hidden_notes_stay_with_their_author_and_moderators(app: TestApp) {
    let c = circle(&app).await;
    let note = app
        .post_note(
            &c.ann,
            &note_on(&c.book, &c.passage, "hide me", json!({"group": c.group})),
        )
        .await;
    let mut reply = note_on(&c.book, &c.passage, "a reply", json!({"group": c.group}));
    reply["reply_to"] = note["id"].clone();
    let reply = app.post_note(&c.bob, &reply).await;
    assert_eq!(hide(&app, &c.fay, &note, true).await.status(), 200);

    // The author sees it, marked hidden; so do the owner and facilitator.
    for reader in [&c.ann, &c.fay, &c.olga] {
        let items = listed(&app, reader, &c.book).await;
        let shown = items
            .iter()
            .find(|n| n["id"] == note["id"])
            .expect("still shown");
        assert_eq!(shown["hidden"], true);
        let one: Value = fetch(&app, reader, &note).await.json().await.unwrap();
        assert_eq!(one["hidden"], true);
    }
    // Another member sees neither it nor the reply under it, in lists, by id, or in counts.
    let (cy, _) = app.reader("cy").await;
    let invite = send(
        c.olga
            .post(app.url(&format!("/api/groups/{}/invites", c.group)))
            .json(&json!({})),
    )
    .await;
    send(
        cy.post(app.url("/api/groups/join"))
            .json(&json!({"code": invite["code"], "accept_rules": true})),
    )
    .await;
    assert!(listed(&app, &cy, &c.book).await.is_empty());
    expect_problem(fetch(&app, &cy, &note).await, 404).await;
    expect_problem(fetch(&app, &cy, &reply).await, 404).await;
    let counts = send(cy.get(app.url(&format!(
        "/api/books/{}/annotations/counts?margin=everyone",
        c.book
    ))))
    .await;
    assert_eq!(counts["items"], json!([]));
    // Nor can they report or reply to it.
    expect_problem(report(&app, &cy, &note, "what was it?").await, 404).await;
    // The reply's author keeps only their own words (DESIGN's exception), not the note.
    let bobs: Vec<Value> = listed(&app, &c.bob, &c.book).await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["id"], reply["id"]);
    expect_problem(fetch(&app, &c.bob, &note).await, 404).await;
    assert_eq!(fetch(&app, &c.bob, &reply).await.status(), 200);
}

async fn moderators_never_see_private_notes(app: TestApp) {
    let c = circle(&app).await;
    let secret = app
        .post_note(
            &c.ann,
            &note_on(&c.book, &c.passage, "zanzibar secret", json!("private")),
        )
        .await;
    // Reported while shared, then withdrawn to private: the report must not expose it.
    let withdrawn = app
        .post_note(
            &c.ann,
            &note_on(
                &c.book,
                &c.passage,
                "zanzibar second thoughts",
                json!({"group": c.group}),
            ),
        )
        .await;
    assert_eq!(report(&app, &c.bob, &withdrawn, "odd").await.status(), 201);
    send(
        c.ann
            .patch(app.url(&format!(
                "/api/annotations/{}",
                withdrawn["id"].as_str().unwrap()
            )))
            .json(&json!({"audience": "private"})),
    )
    .await;

    for moderator in [&c.fay, &c.olga] {
        assert!(reports(&app, moderator).await.is_empty());
        for note in [&secret, &withdrawn] {
            expect_problem(fetch(&app, moderator, note).await, 404).await;
            expect_problem(hide(&app, moderator, note, true).await, 404).await;
        }
        assert!(listed(&app, moderator, &c.book).await.is_empty());
        let found = send(moderator.get(app.url(&format!(
            "/api/books/{}/search?q=zanzibar&margin=everyone",
            c.book
        ))))
        .await;
        assert_eq!(found["annotations"]["items"], json!([]), "{found}");
    }
    // The author still has both.
    let mine = listed(&app, &c.ann, &c.book).await;
    assert_eq!(mine.len(), 2);
}
