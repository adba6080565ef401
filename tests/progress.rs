//! Reading progress over HTTP on both databases: `GET`/`PUT /api/me/progress/{book_id}` and
//! the "continue reading" list, which only names books the reader may still open.

use crate::common::{TestApp, expect_problem, send};
use reqwest::Client;
use scholia::store::users::Role;
use serde_json::{Value, json};

both_databases!(
    progress_round_trips_and_lists_most_recent_first,
    progress_refuses_places_not_in_the_book,
    progress_needs_sign_in_and_a_readable_book,
    progress_goes_with_the_book_and_the_account,
);

async fn put(app: &TestApp, client: &Client, book: &str, body: Value) -> reqwest::Response {
    client
        .put(app.url(&format!("/api/me/progress/{book}")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A passage of chapter `chapter` of `passages`.
fn passage_in(passages: &[Value], chapter: i64) -> Value {
    passages
        .iter()
        .find(|p| p["chapter"] == chapter)
        .unwrap()
        .clone()
}

async fn progress_round_trips_and_lists_most_recent_first(app: TestApp) {
    let (alice, passages) = app.book_with_passages("alice.epub").await;
    let metamorphosis = app.import_fixture("metamorphosis-epub2.epub").await;
    let (ann, _) = app.reader("ann").await;
    let url = |book: &str| app.url(&format!("/api/me/progress/{book}"));
    expect_problem(ann.get(url(&alice)).send().await.unwrap(), 404).await;

    let passage = passage_in(&passages, 2);
    let saved = put(
        &app,
        &ann,
        &alice,
        json!({"chapter": 2, "passage": passage["id"]}),
    )
    .await;
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["book_id"], alice);
    assert_eq!(saved["chapter"], 2);
    assert_eq!(saved["passage"], passage["id"]);
    assert!(saved["updated"].as_str().unwrap().ends_with('Z'));
    assert_eq!(send(ann.get(url(&alice))).await, saved);

    let other = send(ann.put(url(&metamorphosis)).json(&json!({"chapter": 1}))).await;
    assert_eq!(other["passage"], Value::Null);
    let list = send(ann.get(app.url("/api/me/progress"))).await;
    let items = list["items"].as_array().unwrap();
    let books: Vec<&Value> = items.iter().map(|i| &i["book_id"]).collect();
    assert_eq!(books, [&json!(metamorphosis), &json!(alice)]);
    let first = &items[1];
    assert_eq!(first["title"], "Alice's Adventures in Wonderland");
    assert_eq!(first["authors"], json!(["Lewis Carroll"]));
    assert_eq!(first["chapter"], 2);
    assert_eq!(first["passage"], passage["id"]);
    assert_eq!(first["updated"], saved["updated"]);
    let book = send(ann.get(app.url(&format!("/api/books/{alice}")))).await;
    assert_eq!(first["cover"], book["cover"]);
    assert!(first["cover"].is_string(), "alice has a cover");
    assert_eq!(list["next_cursor"], Value::Null);

    // Reading Alice again moves it to the top; a page of one leads to the next.
    send(
        ann.put(url(&alice))
            .json(&json!({"chapter": 3, "passage": null})),
    )
    .await;
    let page = send(ann.get(app.url("/api/me/progress?limit=1"))).await;
    assert_eq!(page["items"][0]["book_id"], alice);
    assert_eq!(page["items"][0]["chapter"], 3);
    assert_eq!(page["items"][0]["passage"], Value::Null);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = send(ann.get(app.url(&format!("/api/me/progress?limit=1&cursor={cursor}")))).await;
    assert_eq!(rest["items"][0]["book_id"], metamorphosis);

    // Progress is each reader's own.
    let (bob, _) = app.reader("bob").await;
    expect_problem(bob.get(url(&alice)).send().await.unwrap(), 404).await;
    let bobs = send(bob.get(app.url("/api/me/progress"))).await;
    assert_eq!(bobs["items"], json!([]));
}

async fn progress_refuses_places_not_in_the_book(app: TestApp) {
    let (alice, passages) = app.book_with_passages("alice.epub").await;
    let (ann, _) = app.reader("ann").await;
    let chapters = send(ann.get(app.url(&format!("/api/books/{alice}")))).await["chapters"]
        .as_array()
        .unwrap()
        .len() as i64;
    let beyond = put(&app, &ann, &alice, json!({"chapter": chapters})).await;
    let detail = expect_problem(beyond, 400).await;
    assert!(detail.contains("not in this book"), "{detail}");
    expect_problem(put(&app, &ann, &alice, json!({"chapter": -1})).await, 400).await;

    let elsewhere = passage_in(&passages, 2);
    let wrong = put(
        &app,
        &ann,
        &alice,
        json!({"chapter": 3, "passage": elsewhere["id"]}),
    )
    .await;
    let detail = expect_problem(wrong, 400).await;
    assert!(detail.contains("chapter 2"), "{detail}");
    let unknown = put(&app, &ann, &alice, json!({"chapter": 2, "passage": "nope"})).await;
    expect_problem(unknown, 400).await;
    let typo = put(
        &app,
        &ann,
        &alice,
        json!({"chapter": 2, "pasage": elsewhere["id"]}),
    )
    .await;
    expect_problem(typo, 400).await;
    expect_problem(put(&app, &ann, &alice, json!({"chapter": "2"})).await, 400).await;

    assert_eq!(app.count("reading_progress").await, 0, "nothing was stored");
    let url = app.url(&format!("/api/me/progress/{alice}"));
    expect_problem(ann.get(url).send().await.unwrap(), 404).await;
}

async fn progress_needs_sign_in_and_a_readable_book(app: TestApp) {
    let alice = app.import_fixture("alice.epub").await;
    let anonymous = app.client();
    let url = app.url(&format!("/api/me/progress/{alice}"));
    expect_problem(anonymous.get(&url).send().await.unwrap(), 401).await;
    expect_problem(
        put(&app, &anonymous, &alice, json!({"chapter": 1})).await,
        401,
    )
    .await;
    expect_problem(
        anonymous
            .get(app.url("/api/me/progress"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;

    let (ann, _) = app.reader("ann").await;
    send(ann.put(&url).json(&json!({"chapter": 1}))).await;
    let missing = uuid::Uuid::new_v4();
    expect_problem(
        put(&app, &ann, &missing.to_string(), json!({"chapter": 1})).await,
        404,
    )
    .await;

    // The book becomes a group's that ann is not in: her progress stays but is not shown.
    let (librarian, _) = app.user_with_role("libby", Role::Librarian).await;
    let (owner, _) = app.reader("owen").await;
    let group = app.group_with(&owner, &[]).await;
    send(
        librarian
            .patch(app.url(&format!("/api/books/{alice}")))
            .json(&json!({"access": "groups", "groups": [group]})),
    )
    .await;
    expect_problem(ann.get(&url).send().await.unwrap(), 404).await;
    expect_problem(put(&app, &ann, &alice, json!({"chapter": 2})).await, 404).await;
    let list = send(ann.get(app.url("/api/me/progress"))).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(app.count("reading_progress").await, 1);

    // Readable again: her place is where she left it.
    send(
        librarian
            .patch(app.url(&format!("/api/books/{alice}")))
            .json(&json!({"access": "signed_in", "groups": []})),
    )
    .await;
    assert_eq!(send(ann.get(&url)).await["chapter"], 1);
    let list = send(ann.get(app.url("/api/me/progress"))).await;
    assert_eq!(list["items"][0]["book_id"], alice);
}

async fn progress_goes_with_the_book_and_the_account(app: TestApp) {
    let alice = app.import_fixture("alice.epub").await;
    let metamorphosis = app.import_fixture("metamorphosis-epub2.epub").await;
    let (ann, _) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    for reader in [&ann, &bob] {
        for book in [&alice, &metamorphosis] {
            send(
                reader
                    .put(app.url(&format!("/api/me/progress/{book}")))
                    .json(&json!({"chapter": 1})),
            )
            .await;
        }
    }
    assert_eq!(app.count("reading_progress").await, 4);
    let (librarian, _) = app.user_with_role("libby", Role::Librarian).await;
    let deleted = librarian
        .delete(app.url(&format!("/api/books/{metamorphosis}")))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    assert_eq!(app.count("reading_progress").await, 2);

    let gone = ann
        .delete(app.url("/api/me"))
        .json(&json!({"password": "password-ann", "shared_notes": "delete"}))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(app.count("reading_progress").await, 1);
    let list = send(bob.get(app.url("/api/me/progress"))).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["book_id"], alice);
}
