//! An author never loses their own words (DESIGN.md, "What a request may see", its
//! exception): after removal, leaving, a group's end, a hidden parent or a lost book, they
//! still read, export, narrow and delete their notes and replies. Both databases.

use crate::common::{TestApp, expect_problem, note_on, send};
use reqwest::Client;
use scholia::store::users::Role;
use serde_json::{Value, json};

both_databases!(
    a_removed_member_keeps_their_reply,
    leaving_with_keep_or_a_group_ending_keeps_replies_with_their_author,
    a_reply_under_a_hidden_note_stays_with_its_author,
    an_author_who_loses_the_book_keeps_their_notes,
    withdrawing_on_leave_reaches_replies_below_the_groups_notes,
);

fn reply(book: &str, parent: &Value, body: &str, audience: Value) -> Value {
    json!({ "book_id": book, "reply_to": parent["id"], "body": body, "audience": audience })
}

fn id(note: &Value) -> &str {
    note["id"].as_str().unwrap()
}

async fn get(app: &TestApp, client: &Client, note: &Value) -> reqwest::Response {
    client
        .get(app.url(&format!("/api/annotations/{}", id(note))))
        .send()
        .await
        .unwrap()
}

async fn patch(app: &TestApp, client: &Client, note: &Value, body: Value) -> reqwest::Response {
    client
        .patch(app.url(&format!("/api/annotations/{}", id(note))))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The ids of every note in the caller's export.
async fn exported(app: &TestApp, client: &Client) -> Vec<String> {
    let export = send(client.get(app.url("/api/me/export"))).await;
    export["books"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["annotations"].as_array().unwrap().clone())
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Ada owns a group that Ben (a member) and Fay (a facilitator) joined; Ada wrote a group
/// note that Ben answered in the group.
struct Thread {
    book: String,
    passage: Value,
    group: String,
    ada: Client,
    ben: Client,
    ben_id: String,
    fay: Client,
    note: Value,
    reply: Value,
}

async fn thread(app: &TestApp) -> Thread {
    let (book, passage) = app.long_passage().await;
    let (ada, _) = app.reader("ada").await;
    let (ben, ben_user) = app.reader("ben").await;
    let (fay, fay_user) = app.reader("fay").await;
    let group = app.group_with(&ada, &[&ben, &fay]).await;
    let fay_id = fay_user["id"].as_str().unwrap();
    send(
        ada.patch(app.url(&format!("/api/groups/{group}/members/{fay_id}")))
            .json(&json!({"role": "facilitator"})),
    )
    .await;
    let shared = json!({ "group": group });
    let note = app
        .post_note(&ada, &note_on(&book, &passage, "ada asks", shared.clone()))
        .await;
    let reply = app
        .post_note(&ben, &reply(&book, &note, "ben answers", shared))
        .await;
    Thread {
        book,
        passage,
        group,
        ada,
        ben,
        ben_id: ben_user["id"].as_str().unwrap().to_owned(),
        fay,
        note,
        reply,
    }
}

/// Ben reads his reply by id and in his export; he can make it private or delete it, but
/// not change what the group reads.
async fn ben_keeps_his_reply(app: &TestApp, t: &Thread) {
    let got = send(
        t.ben
            .get(app.url(&format!("/api/annotations/{}", id(&t.reply)))),
    )
    .await;
    assert_eq!(got["body"], "ben answers");
    assert_eq!(got["mine"], true);
    assert!(
        exported(app, &t.ben)
            .await
            .contains(&id(&t.reply).to_owned())
    );
    let narrowed = send(
        t.ben
            .patch(app.url(&format!("/api/annotations/{}", id(&t.reply))))
            .json(&json!({"audience": "private"})),
    )
    .await;
    assert_eq!(narrowed["audience"], "private");
    let response = t
        .ben
        .delete(app.url(&format!("/api/annotations/{}", id(&t.reply))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    expect_problem(get(app, &t.ben, &t.reply).await, 404).await;
}

async fn a_removed_member_keeps_their_reply(app: TestApp) {
    let t = thread(&app).await;
    let response = t
        .ada
        .delete(app.url(&format!("/api/groups/{}/members/{}", t.group, t.ben_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // The group still reads it under his name, so he must still reach it.
    let seen = send(
        t.ada
            .get(app.url(&format!("/api/annotations/{}", id(&t.reply)))),
    )
    .await;
    assert_eq!(seen["body"], "ben answers");
    // Out of the group, he may not change what it reads: only narrow or delete.
    let detail = expect_problem(
        patch(&app, &t.ben, &t.reply, json!({"body": "ben rewrites"})).await,
        403,
    )
    .await;
    assert!(detail.contains("private"), "{detail}");
    expect_problem(
        patch(&app, &t.ben, &t.reply, json!({"audience": "public"})).await,
        403,
    )
    .await;
    ben_keeps_his_reply(&app, &t).await;
}

async fn leaving_with_keep_or_a_group_ending_keeps_replies_with_their_author(app: TestApp) {
    let t = thread(&app).await;
    send(
        t.ben
            .post(app.url(&format!("/api/groups/{}/leave", t.group)))
            .json(&json!({"notes": "keep"})),
    )
    .await;
    let got = send(
        t.ben
            .get(app.url(&format!("/api/annotations/{}", id(&t.reply)))),
    )
    .await;
    assert_eq!(got["body"], "ben answers");
    assert!(
        exported(&app, &t.ben)
            .await
            .contains(&id(&t.reply).to_owned())
    );

    // Fay's reply, when the group ends, goes back to her as private under Ada's private note.
    let fays = app
        .post_note(
            &t.fay,
            &reply(&t.book, &t.note, "fay adds", json!({"group": t.group})),
        )
        .await;
    let response = t
        .ada
        .delete(app.url(&format!("/api/groups/{}", t.group)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let got = send(
        t.fay
            .get(app.url(&format!("/api/annotations/{}", id(&fays)))),
    )
    .await;
    assert_eq!(got["audience"], "private");
    assert!(exported(&app, &t.fay).await.contains(&id(&fays).to_owned()));
    // Ada reads neither of the replies: they are private now.
    expect_problem(get(&app, &t.ada, &fays).await, 404).await;
    ben_keeps_his_reply(&app, &t).await;
}

async fn a_reply_under_a_hidden_note_stays_with_its_author(app: TestApp) {
    let t = thread(&app).await;
    let hidden = send(
        t.fay
            .post(app.url(&format!("/api/annotations/{}/hide", id(&t.note))))
            .json(&json!({"hidden": true})),
    )
    .await;
    assert_eq!(hidden["hidden"], true);
    expect_problem(get(&app, &t.ben, &t.note).await, 404).await;
    // Ben's reply shows in his own margin and by id, and only there.
    let listed = send(t.ben.get(app.url(&format!(
        "/api/books/{}/annotations?margin=everyone",
        t.book
    ))))
    .await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id(&t.reply)]);
    // Others' replies below his own stay closed to him: the thread is hidden.
    let fays = app
        .post_note(
            &t.fay,
            &reply(
                &t.book,
                &t.reply,
                "fay answers ben",
                json!({"group": t.group}),
            ),
        )
        .await;
    expect_problem(get(&app, &t.ben, &fays).await, 404).await;
    let got = send(
        t.ben
            .get(app.url(&format!("/api/annotations/{}", id(&t.reply)))),
    )
    .await;
    assert_eq!(got["replies"], 0, "{got}");
    // Widening a reply whose parent he cannot read is refused; narrowing is not.
    expect_problem(
        patch(&app, &t.ben, &t.reply, json!({"audience": "public"})).await,
        400,
    )
    .await;
    ben_keeps_his_reply(&app, &t).await;
}

async fn an_author_who_loses_the_book_keeps_their_notes(app: TestApp) {
    let t = thread(&app).await;
    let (librarian, _) = app.user_with_role("librarian", Role::Librarian).await;
    send(
        librarian
            .patch(app.url(&format!("/api/books/{}", t.book)))
            .json(&json!({"access": "groups", "groups": [t.group]})),
    )
    .await;
    let own = app
        .post_note(
            &t.ben,
            &note_on(&t.book, &t.passage, "ben alone", json!("private")),
        )
        .await;
    send(
        t.ben
            .post(app.url(&format!("/api/groups/{}/leave", t.group)))
            .json(&json!({"notes": "keep"})),
    )
    .await;
    // The book is gone for him: its listing is 404, his notes are not.
    let listing = t
        .ben
        .get(app.url(&format!("/api/books/{}/annotations", t.book)))
        .send()
        .await
        .unwrap();
    expect_problem(listing, 404).await;
    let got = send(
        t.ben
            .get(app.url(&format!("/api/annotations/{}", id(&own)))),
    )
    .await;
    assert_eq!(got["body"], "ben alone");
    let exported = exported(&app, &t.ben).await;
    assert!(exported.contains(&id(&own).to_owned()), "{exported:?}");
    assert!(exported.contains(&id(&t.reply).to_owned()), "{exported:?}");
    expect_problem(
        patch(&app, &t.ben, &own, json!({"body": "ben edits"})).await,
        403,
    )
    .await;
    ben_keeps_his_reply(&app, &t).await;
}

async fn withdrawing_on_leave_reaches_replies_below_the_groups_notes(app: TestApp) {
    let t = thread(&app).await;
    // A public thread narrowed to the group after Ben answered it publicly.
    let (ada, ben) = (&t.ada, &t.ben);
    let note = app
        .post_note(
            ada,
            &note_on(&t.book, &t.passage, "ada to all", json!("public")),
        )
        .await;
    let answer = app
        .post_note(ben, &reply(&t.book, &note, "ben to all", json!("public")))
        .await;
    send(
        ada.patch(app.url(&format!("/api/annotations/{}", id(&note))))
            .json(&json!({"audience": {"group": t.group}})),
    )
    .await;
    let seen = send(ada.get(app.url(&format!("/api/annotations/{}", id(&answer))))).await;
    assert_eq!(seen["body"], "ben to all");

    let left = send(
        ben.post(app.url(&format!("/api/groups/{}/leave", t.group)))
            .json(&json!({"notes": "withdraw"})),
    )
    .await;
    assert_eq!(left["notes_changed"], 2, "{left}");
    for withdrawn in [&answer, &t.reply] {
        expect_problem(get(&app, ada, withdrawn).await, 404).await;
        let mine = send(ben.get(app.url(&format!("/api/annotations/{}", id(withdrawn))))).await;
        assert_eq!(mine["audience"], "private");
    }
}
