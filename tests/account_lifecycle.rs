//! Account lifecycle over HTTP on both databases: the display name, changing the password,
//! exporting one's marginalia, and deleting the account with its shared notes deleted or
//! anonymized.

use crate::common::{TestApp, expect_problem, note_on, send};
use reqwest::Client;
use scholia::store::Sql;
use serde_json::{Value, json};

both_databases!(
    export_holds_my_notes_and_nothing_of_others,
    deletion_needs_the_password_and_a_choice,
    deletion_anonymizes_shared_notes_and_hands_groups_on,
    deletion_deletes_shared_notes_leaving_tombstones_for_replies,
    display_names_are_normalized_visible_and_bounded,
    changing_the_password_ends_the_other_sessions,
);

fn id_of(user: &Value) -> String {
    user["id"].as_str().unwrap().to_owned()
}

fn reply_to(book: &str, passage: &Value, parent: &Value, body: &str, audience: Value) -> Value {
    let mut reply = note_on(book, passage, body, audience);
    reply["reply_to"] = parent["id"].clone();
    reply
}

async fn delete_account(app: &TestApp, client: &Client, body: Value) -> reqwest::Response {
    client
        .delete(app.url("/api/me"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn export_holds_my_notes_and_nothing_of_others(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    let group = app.group_with(&ann, &[&bob]).await;
    let other_group = app.group_with(&bob, &[&ann]).await;
    let bobs = app
        .post_note(
            &bob,
            &note_on(
                &book,
                &passage,
                "bob in the circle",
                json!({"group": group}),
            ),
        )
        .await;
    app.post_note(
        &bob,
        &note_on(&book, &passage, "bob's secret", json!("private")),
    )
    .await;
    let mut tagged = note_on(&book, &passage, "ann alone", json!("private"));
    tagged["tags"] = json!(["mine"]);
    app.post_note(&ann, &tagged).await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann for all", json!("public")),
    )
    .await;
    app.post_note(
        &ann,
        &note_on(
            &book,
            &passage,
            "ann in bob's group",
            json!({"group": other_group}),
        ),
    )
    .await;
    app.post_note(
        &ann,
        &reply_to(
            &book,
            &passage,
            &bobs,
            "ann answers bob",
            json!({"group": group}),
        ),
    )
    .await;
    // Leaving anonymously hides my name from the group, not my notes from me.
    send(
        ann.post(app.url(&format!("/api/groups/{other_group}/leave")))
            .json(&json!({"notes": "anonymize"})),
    )
    .await;

    let export = send(ann.get(app.url("/api/me/export"))).await;
    let books = export["books"].as_array().unwrap();
    assert_eq!(books.len(), 1);
    assert_eq!(books[0]["id"], book.as_str());
    assert!(books[0]["title"].as_str().unwrap().contains("Alice"));
    let notes = books[0]["annotations"].as_array().unwrap();
    let mut bodies: Vec<&str> = notes.iter().map(|n| n["body"].as_str().unwrap()).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            "ann alone",
            "ann answers bob",
            "ann for all",
            "ann in bob's group"
        ]
    );
    for note in notes {
        assert_eq!(note["mine"], true);
        assert!(
            note["exact"].is_string() && note["cfi"].is_string() && note["created"].is_string()
        );
    }
    let alone = notes.iter().find(|n| n["body"] == "ann alone").unwrap();
    assert_eq!(alone["tags"], json!(["mine"]));
    assert_eq!(alone["audience"], "private");
    let answer = notes
        .iter()
        .find(|n| n["body"] == "ann answers bob")
        .unwrap();
    assert_eq!(answer["reply_to"], bobs["id"]);
    let text = export.to_string();
    assert!(!text.contains("bob in the circle") && !text.contains("bob's secret"));
    assert!(!text.contains("bob the reader"));

    expect_problem(
        app.client()
            .get(app.url("/api/me/export"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

async fn deletion_needs_the_password_and_a_choice(app: TestApp) {
    let (ann, _) = app.reader("ann").await;
    expect_problem(
        delete_account(
            &app,
            &ann,
            json!({"password": "guess", "shared_notes": "delete"}),
        )
        .await,
        403,
    )
    .await;
    expect_problem(
        delete_account(&app, &ann, json!({"password": "password-ann"})).await,
        400,
    )
    .await;
    expect_problem(
        delete_account(
            &app,
            &ann,
            json!({"password": "password-ann", "shared_notes": "keep"}),
        )
        .await,
        400,
    )
    .await;
    expect_problem(
        delete_account(
            &app,
            &app.client(),
            json!({"password": "x", "shared_notes": "delete"}),
        )
        .await,
        401,
    )
    .await;
    assert_eq!(app.count("users").await, 1);
    send(ann.get(app.url("/api/me"))).await;
}

/// Every id and display name in what `client` can read about the book, group and moderation.
async fn everything_seen(app: &TestApp, client: &Client, book: &str, group: &str) -> String {
    let mut seen = String::new();
    for path in [
        format!("/api/books/{book}/annotations?margin=everyone"),
        format!("/api/books/{book}/search?q=ann&margin=everyone"),
        format!("/api/groups/{group}"),
        format!("/api/groups/{group}/members"),
        "/api/groups".to_owned(),
        "/api/me/mutes".to_owned(),
        "/api/reports".to_owned(),
    ] {
        seen.push_str(&send(client.get(app.url(&path))).await.to_string());
    }
    seen
}

async fn deletion_anonymizes_shared_notes_and_hands_groups_on(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, ann_user) = app.reader("ann").await;
    let (bob, bob_user) = app.reader("bob").await;
    let (fay, fay_user) = app.reader("fay").await;
    // Bob joined first, but Fay facilitates: she takes the group over.
    let group = app.group_with(&ann, &[&bob, &fay]).await;
    send(
        ann.patch(app.url(&format!("/api/groups/{group}/members/{}", id_of(&fay_user))))
            .json(&json!({"role": "facilitator"})),
    )
    .await;
    let alone = app.group_with(&ann, &[]).await;
    let token = send(
        ann.post(app.url("/api/me/tokens"))
            .json(&json!({"name": "script"})),
    )
    .await;
    let token = token["token"].as_str().unwrap().to_owned();

    let shared = app
        .post_note(
            &ann,
            &note_on(
                &book,
                &passage,
                "ann shares with the circle",
                json!({"group": group}),
            ),
        )
        .await;
    let public = app
        .post_note(
            &ann,
            &note_on(&book, &passage, "ann speaks to all", json!("public")),
        )
        .await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann's own thought", json!("private")),
    )
    .await;
    app.post_note(
        &ann,
        &note_on(
            &book,
            &passage,
            "ann alone in a group",
            json!({"group": alone}),
        ),
    )
    .await;
    app.post_note(
        &bob,
        &reply_to(&book, &passage, &public, "bob answers", json!("public")),
    )
    .await;
    let bobs = app
        .post_note(
            &bob,
            &note_on(&book, &passage, "bob's note", json!({"group": group})),
        )
        .await;
    send(
        ann.post(app.url(&format!(
            "/api/annotations/{}/reports",
            bobs["id"].as_str().unwrap()
        )))
        .json(&json!({"reason": "ann finds it rude"})),
    )
    .await;
    let queue = send(fay.get(app.url("/api/reports"))).await;
    assert_eq!(queue["items"][0]["reason"], "ann finds it rude");
    send(
        ann.post(app.url("/api/me/mutes"))
            .json(&json!({"user_id": id_of(&bob_user)})),
    )
    .await;
    send(
        bob.post(app.url("/api/me/mutes"))
            .json(&json!({"user_id": id_of(&ann_user)})),
    )
    .await;

    let response = delete_account(
        &app,
        &ann,
        json!({"password": "password-ann", "shared_notes": "anonymize"}),
    )
    .await;
    assert_eq!(response.status(), 204);

    // Signed out everywhere, and the name is free.
    expect_problem(ann.get(app.url("/api/me")).send().await.unwrap(), 401).await;
    let by_token = app
        .client()
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_problem(by_token, 401).await;
    app.reader("ann").await;

    // The group has a new owner; the one Ann was alone in is gone.
    let fay_group = send(fay.get(app.url(&format!("/api/groups/{group}")))).await;
    assert_eq!(fay_group["role"], "owner");
    let members: Vec<String> = send(fay.get(app.url(&format!("/api/groups/{group}/members"))))
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(members.len(), 2);
    assert!(!members.contains(&id_of(&ann_user)));
    expect_problem(
        fay.get(app.url(&format!("/api/groups/{alone}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;

    // Shared notes stay, without author; the private ones are gone.
    let listed =
        send(bob.get(app.url(&format!("/api/books/{book}/annotations?margin=everyone")))).await;
    let notes = listed["items"].as_array().unwrap();
    for kept in [&shared, &public] {
        let note = notes.iter().find(|n| n["id"] == kept["id"]).expect("kept");
        assert_eq!(
            note["author"],
            json!({"id": null, "display_name": "Anonymous"})
        );
        assert_eq!(note["body"], kept["body"]);
    }
    let remaining: i64 = {
        app.state.store.raw().scalar(Sql::new("SELECT COUNT(*) FROM annotations WHERE body IN ('ann''s own thought', 'ann alone in a group')")).await
    .unwrap()
    };
    assert_eq!(remaining, 0);
    // Ann's report goes with her account: its reason is her words.
    let queue = send(fay.get(app.url("/api/reports"))).await;
    assert_eq!(queue["items"], json!([]), "{queue}");

    // Nothing anyone can read names her.
    for (client, who) in [(&bob, "bob"), (&fay, "fay")] {
        let seen = everything_seen(&app, client, &book, &group).await;
        assert!(
            !seen.contains(&id_of(&ann_user)),
            "{who} sees Ann's id: {seen}"
        );
        assert!(
            !seen.contains("ann the reader"),
            "{who} sees Ann's name: {seen}"
        );
    }
}

async fn deletion_deletes_shared_notes_leaving_tombstones_for_replies(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, ann_user) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    let group = app.group_with(&bob, &[&ann]).await;
    let answered = app
        .post_note(
            &ann,
            &note_on(&book, &passage, "ann is answered", json!("public")),
        )
        .await;
    let bobs_reply = app
        .post_note(
            &bob,
            &reply_to(&book, &passage, &answered, "bob answers", json!("public")),
        )
        .await;
    // A thread of Ann's own goes entirely.
    let thread = app
        .post_note(
            &ann,
            &note_on(&book, &passage, "ann muses", json!({"group": group})),
        )
        .await;
    app.post_note(
        &ann,
        &reply_to(
            &book,
            &passage,
            &thread,
            "ann muses on",
            json!({"group": group}),
        ),
    )
    .await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann in private", json!("private")),
    )
    .await;

    let response = delete_account(
        &app,
        &ann,
        json!({"password": "password-ann", "shared_notes": "delete"}),
    )
    .await;
    assert_eq!(response.status(), 204);

    let listed =
        send(bob.get(app.url(&format!("/api/books/{book}/annotations?margin=everyone")))).await;
    let notes = listed["items"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "{listed}");
    let tombstone = notes.iter().find(|n| n["id"] == answered["id"]).unwrap();
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["body"], Value::Null);
    assert_eq!(tombstone["author"]["id"], Value::Null);
    assert!(
        notes
            .iter()
            .any(|n| n["id"] == bobs_reply["id"] && n["body"] == "bob answers")
    );
    assert_eq!(app.count("annotations").await, 2);
    let text = listed.to_string();
    assert!(!text.contains(&id_of(&ann_user)) && !text.contains("ann the reader"));
    // Bob's group lives on without her.
    let members = send(bob.get(app.url(&format!("/api/groups/{group}/members")))).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
}

async fn register_named(app: &TestApp, username: &str, display_name: &str) -> reqwest::Response {
    app.client()
        .post(app.url("/api/auth/register"))
        .json(
            &json!({"username": username, "password": "password-x", "display_name": display_name}),
        )
        .send()
        .await
        .unwrap()
}

async fn display_names_are_normalized_visible_and_bounded(app: TestApp) {
    // "Ame" + combining acute: stored composed (NFC), trimmed.
    let decomposed: Value = register_named(&app, "amelie", "  Ame\u{301}lie  ")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decomposed["display_name"], "Am\u{e9}lie");
    for (name, kept) in [
        ("\u{1F469}\u{200D}\u{1F4BB}", "ZWJ emoji"),
        (
            "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}",
            "ZWNJ in Persian",
        ),
    ] {
        let response = register_named(&app, &format!("u{}", name.len()), name).await;
        assert_eq!(response.status(), 201, "{kept}");
    }
    for hostile in [
        "\u{202E}nimda",
        "ad\u{200B}min",
        "ad\u{2060}min",
        "\u{FEFF}admin",
        "ad\u{2067}min",
        "   ",
        &"x".repeat(65),
    ] {
        let response = register_named(&app, "hostile", hostile).await;
        let detail = expect_problem(response, 400).await;
        assert!(detail.contains("display_name"), "{detail}");
    }

    let (client, _) = app.reader("renamer").await;
    let renamed = send(
        client
            .patch(app.url("/api/me"))
            .json(&json!({"display_name": " New name "})),
    )
    .await;
    assert_eq!(renamed["display_name"], "New name");
    let me = send(client.get(app.url("/api/me"))).await;
    assert_eq!(me["display_name"], "New name");
    let bidi = client
        .patch(app.url("/api/me"))
        .json(&json!({"display_name": "a\u{202E}b"}))
        .send()
        .await
        .unwrap();
    expect_problem(bidi, 400).await;
    let unknown = client
        .patch(app.url("/api/me"))
        .json(&json!({"display_name": "ok", "role": "admin"}))
        .send()
        .await
        .unwrap();
    expect_problem(unknown, 400).await;
    assert_eq!(send(client.get(app.url("/api/me"))).await["role"], "reader");
}

async fn changing_the_password_ends_the_other_sessions(app: TestApp) {
    let (here, _) = app.reader("pat").await;
    let elsewhere = app.client();
    let login = elsewhere
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "pat", "password": "password-pat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    let change = |current: &str| {
        here.put(app.url("/api/me/password"))
            .json(&json!({"current_password": current, "new_password": "a new passphrase"}))
    };
    let wrong = change("not it").send().await.unwrap();
    expect_problem(wrong, 403).await;
    assert_eq!(app.login("pat", "password-pat").await.status(), 200);
    send(change("password-pat")).await;

    assert_eq!(
        here.get(app.url("/api/me")).send().await.unwrap().status(),
        200
    );
    let ended = elsewhere.get(app.url("/api/me")).send().await.unwrap();
    expect_problem(ended, 401).await;
    assert_eq!(app.login("pat", "password-pat").await.status(), 401);
    assert_eq!(app.login("pat", "a new passphrase").await.status(), 200);
    // The session that changed it still writes.
    let token = here
        .post(app.url("/api/me/tokens"))
        .json(&json!({"name": "still here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 201);
}
