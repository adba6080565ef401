//! `PUT /api/me/preferences` refuses what it cannot store and merges book overrides; one note
//! by id answers as the listing does under "my reading first". Both databases.

use crate::common::{TestApp, expect_problem, is_long, note_on, send};
use scholia::store::users::Role;
use serde_json::json;

both_databases!(
    preferences_refuse_unknown_keys_and_books,
    book_overrides_merge_entry_by_entry,
    one_note_by_id_waits_for_my_reading_first,
);

async fn preferences_refuse_unknown_keys_and_books(app: TestApp) {
    let book = app.import_fixture("alice.epub").await;
    let closed = app.import_fixture("trees.epub").await;
    let (librarian, _) = app.user_with_role("librarian", Role::Librarian).await;
    let (ada, _) = app.reader("ada").await;
    let group = app.group_with(&librarian, &[]).await;
    send(
        librarian
            .patch(app.url(&format!("/api/books/{closed}")))
            .json(&json!({"access": "groups", "groups": [group]})),
    )
    .await;
    let before = send(ada.get(app.url("/api/me/preferences"))).await;
    let put = |body: serde_json::Value| ada.put(app.url("/api/me/preferences")).json(&body).send();

    let detail = expect_problem(
        put(json!({"margin": "none", "my_reading_frist": true}))
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(detail.contains("my_reading_frist"), "{detail}");
    let detail = expect_problem(
        put(json!({"books": {book.clone(): {"colour": "blue"}}}))
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(detail.contains("colour"), "{detail}");
    let missing = uuid::Uuid::new_v4().to_string();
    for unknown in [&missing, &closed] {
        let detail = expect_problem(
            put(json!({"margin": "none", "books": {unknown.clone(): {"margin": "none"}}}))
                .await
                .unwrap(),
            404,
        )
        .await;
        assert!(detail.contains(unknown.as_str()), "{detail}");
    }
    // Nothing was stored by the refused requests.
    assert_eq!(send(ada.get(app.url("/api/me/preferences"))).await, before);
}

async fn book_overrides_merge_entry_by_entry(app: TestApp) {
    let alice = app.import_fixture("alice.epub").await;
    let trees = app.import_fixture("trees.epub").await;
    let (ada, _) = app.reader("ada").await;
    let put = |body: serde_json::Value| send(ada.put(app.url("/api/me/preferences")).json(&body));

    put(json!({"books": {alice.clone(): {"margin": "none", "my_reading_first": true}}})).await;
    let both = put(json!({"books": {trees.clone(): {"margin": "everyone"}}})).await;
    assert_eq!(
        both["books"][&alice],
        json!({"margin": "none", "my_reading_first": true})
    );
    assert_eq!(
        both["books"][&trees],
        json!({"margin": "everyone", "my_reading_first": false})
    );
    // A field left out keeps the override's value; null removes the override.
    let merged =
        put(json!({"books": {alice.clone(): {"margin": "groups"}, trees.clone(): null}})).await;
    assert_eq!(
        merged["books"],
        json!({alice.clone(): {"margin": "groups", "my_reading_first": true}})
    );
    assert_eq!(send(ada.get(app.url("/api/me/preferences"))).await, merged);
}

async fn one_note_by_id_waits_for_my_reading_first(app: TestApp) {
    let (book, passages) = app.book_with_passages("alice.epub").await;
    let long: Vec<_> = passages.into_iter().filter(is_long).collect();
    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let note = app
        .post_note(
            &ada,
            &note_on(&book, &long[0], "ada's reading", json!("public")),
        )
        .await;
    send(
        ben.put(app.url("/api/me/preferences"))
            .json(&json!({"margin": "everyone", "my_reading_first": true})),
    )
    .await;
    let url = app.url(&format!(
        "/api/annotations/{}",
        note["id"].as_str().unwrap()
    ));
    let listing = app.url(&format!("/api/books/{book}/annotations"));
    assert_eq!(send(ben.get(&listing)).await["items"], json!([]));
    expect_problem(ben.get(&url).send().await.unwrap(), 404).await;
    // His note elsewhere does not open this passage; one here does, as a reveal would.
    app.post_note(
        &ben,
        &note_on(&book, &long[1], "ben elsewhere", json!("private")),
    )
    .await;
    expect_problem(ben.get(&url).send().await.unwrap(), 404).await;
    let reveal = ben
        .post(app.url(&format!(
            "/api/books/{book}/passages/{}/reveal",
            long[0]["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(reveal.status(), 204);
    assert_eq!(send(ben.get(&url)).await["body"], "ada's reading");
    assert_eq!(send(ada.get(&url)).await["body"], "ada's reading");
}
