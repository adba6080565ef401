//! Annotations over HTTP: anchors, audiences, replies, edits, tombstones, the reader's margin,
//! and concurrent writers.

use crate::common::{TestApp, expect_problem, note_on, send};
use scholia::store::Sql;
use scholia::store::users::Role;
use serde_json::{Value, json};

both_databases!(
    group_members_share_and_outsiders_see_nothing,
    bad_anchors_and_fields_are_refused,
    only_the_author_edits_or_deletes,
    replies_stay_within_their_parent_audience,
    margin_preferences_filter_but_never_widen,
    my_reading_first_hides_until_i_write_or_reveal,
    muted_readers_disappear,
    sixty_four_concurrent_writers_lose_nothing,
    a_note_that_cannot_be_stored_fails_alone,
    a_book_i_may_no_longer_read_is_not_found_even_with_my_notes_on_it,
    a_tombstone_shows_only_over_replies_i_may_read,
    remote_images_in_notes_are_links,
    empty_margin_is_absent_and_unknown_audience_is_refused,
    visitors_see_public_notes_by_default,
    a_page_that_fills_the_limit_is_the_last,
    counts_say_where_notes_wait,
);

async fn listed(app: &TestApp, client: &reqwest::Client, book: &str, query: &str) -> Vec<Value> {
    let response = client
        .get(app.url(&format!("/api/books/{book}/annotations?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

fn bodies(items: &[Value]) -> Vec<String> {
    let mut bodies: Vec<String> = items
        .iter()
        .map(|n| n["body"].as_str().unwrap_or("").to_owned())
        .collect();
    bodies.sort();
    bodies
}

async fn group_members_share_and_outsiders_see_nothing(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (ben, _) = app.reader("ben").await;
    let (cat, _) = app.reader("cat").await;
    let group = app.group_with(&ann, &[&ben]).await;

    let shared = app
        .post_note(
            &ann,
            &note_on(&book, &passage, "ann to group", json!({"group": group})),
        )
        .await;
    assert_eq!(shared["audience"]["group"], group.as_str());
    assert_eq!(shared["author"]["display_name"], "ann the reader");
    assert!(shared["author"].get("username").is_none());
    assert!(
        shared["body_html"]
            .as_str()
            .unwrap()
            .contains("ann to group")
    );
    app.post_note(
        &ben,
        &note_on(&book, &passage, "ben to group", json!({"group": group})),
    )
    .await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann private", json!("private")),
    )
    .await;
    app.post_note(
        &ben,
        &note_on(&book, &passage, "ben private", json!("private")),
    )
    .await;

    let for_ben = listed(
        &app,
        &ben,
        &book,
        &format!("passage={}", passage["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        bodies(&for_ben),
        ["ann to group", "ben private", "ben to group"]
    );
    let for_ann = listed(&app, &ann, &book, "margin=everyone").await;
    assert_eq!(
        bodies(&for_ann),
        ["ann private", "ann to group", "ben to group"]
    );

    for margin in ["", "margin=everyone", "margin=groups"] {
        assert!(
            listed(&app, &cat, &book, margin).await.is_empty(),
            "cat sees nothing ({margin})"
        );
    }
    let id = shared["id"].as_str().unwrap();
    expect_problem(
        cat.get(app.url(&format!("/api/annotations/{id}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    expect_problem(
        app.client()
            .get(app.url(&format!("/api/annotations/{id}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    let counts: Value = cat
        .get(app.url(&format!(
            "/api/books/{book}/annotations/counts?margin=everyone"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(counts["items"].as_array().unwrap().is_empty());
    let counts: Value = ben
        .get(app.url(&format!("/api/books/{book}/annotations/counts")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["items"][0]["count"], 3);

    // An outsider cannot share into the group.
    let refused = cat
        .post(app.url("/api/annotations"))
        .json(&note_on(
            &book,
            &passage,
            "intruder",
            json!({"group": group}),
        ))
        .send()
        .await
        .unwrap();
    expect_problem(refused, 403).await;
}

async fn bad_anchors_and_fields_are_refused(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (reader, _) = app.reader("val").await;
    let length = passage["text"].as_str().unwrap().chars().count() as i64;
    let good = note_on(&book, &passage, "ok", json!("private"));
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"passage_id": "nope"}), 400, "not in this book"),
        (json!({"start": 10, "end": 10}), 400, "start < end"),
        (json!({"start": -1}), 400, "0 <= start"),
        (json!({"end": length + 1}), 400, "end <="),
        (json!({"exact": "something else"}), 400, "exact must be"),
        (json!({"prefix": "not the prefix"}), 400, "prefix"),
        (json!({"audience": "friends"}), 400, "audience"),
        (json!({"color": "javascript:alert(1)"}), 400, "color"),
        (json!({"tags": [""]}), 400, "tag"),
        (json!({"motivation": "shouting"}), 400, "motivation"),
        (json!({"reply_to": uuid::Uuid::new_v4()}), 404, "replied to"),
        (json!({"book_id": uuid::Uuid::new_v4()}), 404, "book"),
        (json!({"body": "x".repeat(20_001)}), 400, "body"),
    ];
    for (change, status, message) in cases {
        let mut body = good.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = reader
            .post(app.url("/api/annotations"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let detail = expect_problem(response, status).await;
        assert!(detail.contains(message), "{change}: {detail}");
    }
    let missing = reader
        .post(app.url("/api/annotations"))
        .json(&json!({"book_id": book}))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 400).await;
    let not_uuid = reader
        .get(app.url("/api/annotations/12"))
        .send()
        .await
        .unwrap();
    assert!(matches!(not_uuid.status().as_u16(), 400 | 404));
    assert_eq!(
        app.count("annotations").await,
        0,
        "nothing stored by refused requests"
    );
    app.post_note(&reader, &good).await;
}

async fn only_the_author_edits_or_deletes(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    let public = app
        .post_note(&ann, &note_on(&book, &passage, "first", json!("public")))
        .await;
    let private = app
        .post_note(&ann, &note_on(&book, &passage, "secret", json!("private")))
        .await;
    let id = public["id"].as_str().unwrap();
    let private_id = private["id"].as_str().unwrap();

    let edit = |client: &reqwest::Client, id: &str, body: Value| {
        client
            .patch(app.url(&format!("/api/annotations/{id}")))
            .json(&body)
            .send()
    };
    expect_problem(
        edit(&bob, id, json!({"body": "hijacked"})).await.unwrap(),
        403,
    )
    .await;
    expect_problem(
        edit(&bob, private_id, json!({"body": "x"})).await.unwrap(),
        404,
    )
    .await;
    expect_problem(
        bob.delete(app.url(&format!("/api/annotations/{id}")))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    expect_problem(
        bob.delete(app.url(&format!("/api/annotations/{private_id}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let edited = edit(
        &ann,
        id,
        json!({"body": "*second*", "tags": ["theme", "theme", "war"], "color": "green"}),
    )
    .await
    .unwrap();
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["body"], "*second*");
    assert_eq!(edited["body_html"], "<p><em>second</em></p>\n");
    assert_eq!(edited["tags"], json!(["theme", "war"]));
    assert_eq!(edited["created"], public["created"]);
    assert_ne!(edited["updated"], public["updated"]);
    let tagged = listed(&app, &bob, &book, "margin=everyone&tag=war").await;
    assert_eq!(tagged.len(), 1);

    // A note with a reply leaves a tombstone; one without disappears.
    let reply =
        json!({"book_id": book, "reply_to": id, "body": "I disagree", "audience": "public"});
    let reply = app.post_note(&bob, &reply).await;
    assert_eq!(reply["motivation"], "replying");
    assert_eq!(reply["passage_id"], public["passage_id"]);
    let deleted = ann
        .delete(app.url(&format!("/api/annotations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let tombstone: Value = bob
        .get(app.url(&format!("/api/annotations/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tombstone["deleted"], true);
    assert!(tombstone["body"].is_null());
    assert_eq!(tombstone["replies"], 1);
    let late = bob
        .post(app.url("/api/annotations"))
        .json(&json!({"book_id": book, "reply_to": id, "body": "too late", "audience": "public"}))
        .send()
        .await
        .unwrap();
    expect_problem(late, 410).await;
    let reply_id = reply["id"].as_str().unwrap();
    assert_eq!(
        bob.get(app.url(&format!("/api/annotations/{reply_id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    ann.delete(app.url(&format!("/api/annotations/{private_id}")))
        .send()
        .await
        .unwrap();
    expect_problem(
        ann.get(app.url(&format!("/api/annotations/{private_id}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

async fn replies_stay_within_their_parent_audience(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (ben, _) = app.reader("ben").await;
    let (cy, _) = app.reader("cy").await;
    let group = app.group_with(&ann, &[&ben]).await;
    let root = app
        .post_note(
            &ann,
            &note_on(&book, &passage, "group root", json!({"group": group})),
        )
        .await;
    let root_id = root["id"].as_str().unwrap();

    let wider = ben
        .post(app.url("/api/annotations"))
        .json(
            &json!({"book_id": book, "reply_to": root_id, "body": "to all", "audience": "public"}),
        )
        .send()
        .await
        .unwrap();
    let detail = expect_problem(wider, 400).await;
    assert!(detail.contains("wider audience"), "{detail}");
    app.post_note(&ben, &json!({"book_id": book, "reply_to": root_id, "body": "group reply", "audience": {"group": group}})).await;

    // Widening the root later does not widen the reply written for the group.
    let widened = ann
        .patch(app.url(&format!("/api/annotations/{root_id}")))
        .json(&json!({"audience": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(widened.status(), 200);
    let seen = listed(&app, &cy, &book, "margin=everyone").await;
    assert_eq!(bodies(&seen), ["group root"]);
    assert_eq!(
        seen[0]["replies"], 0,
        "cy is not told about replies she cannot read"
    );
    // Narrowing the root hides the whole thread from those who lose the root.
    app.post_note(&cy, &json!({"book_id": book, "reply_to": root_id, "body": "cy public reply", "audience": "public"})).await;
    ann.patch(app.url(&format!("/api/annotations/{root_id}")))
        .json(&json!({"audience": "private"}))
        .send()
        .await
        .unwrap();
    // Cy keeps her own words (DESIGN's exception for authors); nobody else reads them.
    let seen = listed(&app, &cy, &book, "margin=everyone").await;
    assert_eq!(
        bodies(&seen),
        ["cy public reply"],
        "cy's own reply under an unreadable note stays hers"
    );
    let seen = listed(&app, &ben, &book, "margin=everyone").await;
    assert!(
        !bodies(&seen).contains(&"cy public reply".to_owned()),
        "a reply under an unreadable note is unreadable to others"
    );
}

async fn margin_preferences_filter_but_never_widen(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (ben, _) = app.reader("ben").await;
    let group = app.group_with(&ann, &[&ben]).await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann public", json!("public")),
    )
    .await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann group", json!({"group": group})),
    )
    .await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann private", json!("private")),
    )
    .await;
    app.post_note(&ben, &note_on(&book, &passage, "ben own", json!("private")))
        .await;

    let prefs: Value = ben
        .get(app.url("/api/me/preferences"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prefs["margin"], "groups", "new accounts start with groups");
    assert_eq!(
        bodies(&listed(&app, &ben, &book, "").await),
        ["ann group", "ben own"]
    );
    assert_eq!(
        bodies(&listed(&app, &ben, &book, "margin=none").await),
        ["ben own"]
    );
    assert_eq!(
        bodies(&listed(&app, &ben, &book, "margin=everyone").await),
        ["ann group", "ann public", "ben own"]
    );
    expect_problem(
        ben.get(app.url(&format!("/api/books/{book}/annotations?margin=all")))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;

    let put = ben
        .put(app.url("/api/me/preferences"))
        .json(&json!({"margin": "none", "books": {book.clone(): {"margin": "everyone"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(
        bodies(&listed(&app, &ben, &book, "").await),
        ["ann group", "ann public", "ben own"]
    );
    ben.put(app.url("/api/me/preferences"))
        .json(&json!({"books": {book.clone(): null}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bodies(&listed(&app, &ben, &book, "").await), ["ben own"]);
    let bad = ben
        .put(app.url("/api/me/preferences"))
        .json(&json!({"margin": "loud"}))
        .send()
        .await
        .unwrap();
    expect_problem(bad, 400).await;
}

async fn my_reading_first_hides_until_i_write_or_reveal(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (ben, _) = app.reader("ben").await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann public", json!("public")),
    )
    .await;
    ben.put(app.url("/api/me/preferences"))
        .json(&json!({"margin": "everyone", "my_reading_first": true}))
        .send()
        .await
        .unwrap();
    assert!(listed(&app, &ben, &book, "").await.is_empty());
    let mine = app
        .post_note(
            &ben,
            &note_on(&book, &passage, "ben first", json!("private")),
        )
        .await;
    assert_eq!(mine["written_blind"], true);
    assert_eq!(
        bodies(&listed(&app, &ben, &book, "").await),
        ["ann public", "ben first"]
    );
    let second = app
        .post_note(
            &ben,
            &note_on(&book, &passage, "ben second", json!("private")),
        )
        .await;
    assert_eq!(
        second["written_blind"], false,
        "written after seeing the others"
    );

    // Revealing works too, per passage.
    let (cy, _) = app.reader("cy").await;
    cy.put(app.url("/api/me/preferences"))
        .json(&json!({"margin": "everyone", "my_reading_first": true}))
        .send()
        .await
        .unwrap();
    assert!(listed(&app, &cy, &book, "").await.is_empty());
    let passage_id = passage["id"].as_str().unwrap();
    let reveal = cy
        .post(app.url(&format!("/api/books/{book}/passages/{passage_id}/reveal")))
        .send()
        .await
        .unwrap();
    assert_eq!(reveal.status(), 204);
    assert_eq!(bodies(&listed(&app, &cy, &book, "").await), ["ann public"]);
}

async fn muted_readers_disappear(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (troll, troll_user) = app.reader("troll").await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann public", json!("public")),
    )
    .await;
    app.post_note(
        &troll,
        &note_on(&book, &passage, "troll public", json!("public")),
    )
    .await;
    let troll_id = troll_user["id"].as_str().unwrap();
    let mute = ann
        .post(app.url("/api/me/mutes"))
        .json(&json!({"user_id": troll_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(mute.status(), 204);
    assert_eq!(
        bodies(&listed(&app, &ann, &book, "margin=everyone").await),
        ["ann public"]
    );
    let mutes: Value = ann
        .get(app.url("/api/me/mutes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mutes["items"][0]["display_name"], "troll the reader");
    let unmute = ann
        .delete(app.url(&format!("/api/me/mutes/{troll_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(unmute.status(), 204);
    assert_eq!(listed(&app, &ann, &book, "margin=everyone").await.len(), 2);
    let own = ann
        .post(app.url("/api/me/mutes"))
        .json(&json!({"user_id": troll_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 204);
    let nobody = ann
        .post(app.url("/api/me/mutes"))
        .json(&json!({"user_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .unwrap();
    expect_problem(nobody, 404).await;
}

async fn sixty_four_concurrent_writers_lose_nothing(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let mut clients = Vec::new();
    for i in 0..8 {
        clients.push(app.reader(&format!("writer{i}")).await.0);
    }
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let body = note_on(&book, &passage, &format!("note {i}"), json!("public"));
            let url = app.url("/api/annotations");
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    assert_eq!(app.count("annotations").await, 64);
    let all = listed(&app, &clients[0], &book, "margin=everyone&limit=500").await;
    assert_eq!(all.len(), 64);
    // The rows one PostgreSQL transaction inserted carry its id (`xmin`): fewer ids than notes
    // means that notes written at the same moment were committed together.
    let raw = app.state.store.raw();
    if !raw.is_sqlite() {
        let transactions: i64 = raw
            .scalar(Sql::new(
                "SELECT COUNT(DISTINCT xmin::text) FROM annotations",
            ))
            .await
            .unwrap();
        assert!(transactions < 64, "64 notes in {transactions} transactions");
    }
}

/// Notes written at the same moment are committed together; one that the database refuses
/// (its book is gone) must fail alone and take none of the others with it.
async fn a_note_that_cannot_be_stored_fails_alone(app: TestApp) {
    use scholia::store::annotations::{Audience, NewAnnotation};
    let (book, passage) = app.long_passage().await;
    let (_, user) = app.reader("writer").await;
    let author: uuid::Uuid = user["id"].as_str().unwrap().parse().unwrap();
    let note = |book_id: uuid::Uuid, i: usize| NewAnnotation {
        book_id,
        passage_id: passage["id"].as_str().unwrap().to_owned(),
        chapter: 0,
        ordinal: 0,
        start: 0,
        end: 1,
        exact: "x".into(),
        prefix: String::new(),
        suffix: String::new(),
        cfi: String::new(),
        motivation: "commenting".into(),
        body: Some(format!("note {i}")),
        tags: vec![format!("tag{i}")],
        color: None,
        audience: Audience::Public,
        reply_to: None,
        written_blind: false,
    };
    let book_id: uuid::Uuid = book.parse().unwrap();
    let store = &app.state.store;
    let mut stored = 0;
    for round in 0..5 {
        let results = futures::future::join_all((0..20).map(|i| {
            let target = if i == 10 {
                uuid::Uuid::now_v7()
            } else {
                book_id
            };
            store.insert_annotation(author, note(target, round * 20 + i))
        }))
        .await;
        for (i, result) in results.iter().enumerate() {
            assert_eq!(
                result.is_ok(),
                i != 10,
                "note {i} of round {round}: {result:?}"
            );
        }
        stored += 19;
        assert_eq!(app.count("annotations").await, stored);
        assert_eq!(app.count("annotation_tags").await, stored);
    }
}

/// Listings and counts only ask whether the book is readable when they find no note (a note
/// found proves it): a reader whose own notes are on a book they may no longer read must
/// still get 404, as for a book that does not exist, and an empty book a readable empty page.
async fn a_book_i_may_no_longer_read_is_not_found_even_with_my_notes_on_it(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (rue, _) = app.reader("rue").await;
    let (owner, _) = app.reader("owner").await;
    app.post_note(&rue, &note_on(&book, &passage, "mine", json!("private")))
        .await;
    let paths = [
        format!("/api/books/{book}/annotations"),
        format!("/api/books/{book}/annotations?margin=none"),
        format!(
            "/api/books/{book}/annotations?order=reading&chapter={}",
            passage["chapter"]
        ),
        format!("/api/books/{book}/annotations/counts"),
        format!("/api/books/{book}/search?q=mine"),
    ];
    for path in &paths {
        send(rue.get(app.url(path))).await;
    }

    // The book becomes readable by a group rue is not in.
    let club = app.group_with(&owner, &[]).await;
    let (librarian, _) = app.user_with_role("lou", Role::Librarian).await;
    send(
        librarian
            .patch(app.url(&format!("/api/books/{book}")))
            .json(&json!({"access": "groups", "groups": [club]})),
    )
    .await;
    for path in &paths {
        expect_problem(rue.get(app.url(path)).send().await.unwrap(), 404).await;
    }
    let nowhere = uuid::Uuid::new_v4();
    let missing = rue
        .get(app.url(&format!("/api/books/{nowhere}/annotations")))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404).await;

    // A readable book without notes is an empty page, not a 404.
    let empty = app.import_fixture("trees.epub").await;
    assert!(listed(&app, &rue, &empty, "").await.is_empty());
    let counts = send(rue.get(app.url(&format!("/api/books/{empty}/annotations/counts")))).await;
    assert_eq!(counts["items"], json!([]));
}

/// A tombstone exists because its note had replies: shown to a reader who may read none of
/// them, it would tell them that replies they may not read exist.
async fn a_tombstone_shows_only_over_replies_i_may_read(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (ben, _) = app.reader("ben").await;
    let (cat, _) = app.reader("cat").await;
    let note = app
        .post_note(
            &ann,
            &note_on(&book, &passage, "open question", json!("public")),
        )
        .await;
    let id = note["id"].as_str().unwrap();
    let reply = app
        .post_note(
            &ben,
            &json!({"book_id": book, "reply_to": id, "body": "my own answer", "audience": "private"}),
        )
        .await;
    let reply_id = reply["id"].as_str().unwrap();
    send(ann.delete(app.url(&format!("/api/annotations/{id}")))).await;

    // Ben reads his reply, so the tombstone holds his thread together.
    let for_ben = listed(&app, &ben, &book, "margin=everyone").await;
    let ids: Vec<&str> = for_ben.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [reply_id, id]);
    assert_eq!(for_ben[1]["deleted"], true);
    assert_eq!(for_ben[1]["replies"], 1);

    // Cat and Ann, who may not read Ben's private reply, see nothing at all.
    for reader in [&cat, &ann] {
        assert!(
            listed(&app, reader, &book, "margin=everyone")
                .await
                .is_empty()
        );
        let one = reader
            .get(app.url(&format!("/api/annotations/{id}")))
            .send()
            .await
            .unwrap();
        expect_problem(one, 404).await;
        let counts = send(reader.get(app.url(&format!(
            "/api/books/{book}/annotations/counts?margin=everyone"
        ))))
        .await;
        assert_eq!(counts["items"], json!([]));
    }

    // Once the reply is public, the tombstone stands for it before everyone.
    send(
        ben.patch(app.url(&format!("/api/annotations/{reply_id}")))
            .json(&json!({"audience": "public"})),
    )
    .await;
    let for_cat = listed(&app, &cat, &book, "margin=everyone").await;
    let ids: Vec<&str> = for_cat.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [reply_id, id]);
    assert_eq!(for_cat[1]["replies"], 1);
}

async fn remote_images_in_notes_are_links(app: TestApp) {
    let (book, passages) = app.book_with_passages("trees.epub").await;
    let (client, _) = app.reader("pixie").await;
    let body = "look ![pixel](https://tracker.example/p.gif)";
    let note = app
        .post_note(
            &client,
            &note_on(&book, &passages[0], body, json!("public")),
        )
        .await;
    let html = note["body_html"].as_str().unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("href=\"https://tracker.example/p.gif\""),
        "{html}"
    );
}

async fn empty_margin_is_absent_and_unknown_audience_is_refused(app: TestApp) {
    let (book, passages) = app.book_with_passages("trees.epub").await;
    let (client, _) = app.reader("mara").await;
    app.post_note(
        &client,
        &note_on(&book, &passages[0], "mine", json!("public")),
    )
    .await;
    let list = |query: &str| client.get(app.url(&format!("/api/books/{book}/annotations?{query}")));
    let empty = send(list("margin=")).await;
    assert_eq!(empty["items"].as_array().unwrap().len(), 1);
    let counts =
        send(client.get(app.url(&format!("/api/books/{book}/annotations/counts?margin=")))).await;
    assert_eq!(counts["items"].as_array().unwrap().len(), 1);
    let public = send(list("audience=public")).await;
    assert_eq!(public["items"].as_array().unwrap().len(), 1);
    let unknown = list("audience=friends").send().await.unwrap();
    let detail = expect_problem(unknown, 400).await;
    assert!(detail.contains("audience"), "{detail}");
    let order = list("order=sideways").send().await.unwrap();
    expect_problem(order, 400).await;
}

/// Passages long enough for [`note_on`]'s range.
fn long_passages(passages: &[Value]) -> Vec<Value> {
    passages
        .iter()
        .filter(|p| p["text"].as_str().unwrap().chars().count() > 15)
        .cloned()
        .collect()
}

async fn visitors_see_public_notes_by_default(app: TestApp) {
    let (book, passages) = app.book_with_passages("trees.epub").await;
    let passages = long_passages(&passages);
    let (client, _) = app.reader("pia").await;
    app.post_note(
        &client,
        &note_on(&book, &passages[0], "for all", json!("public")),
    )
    .await;
    app.post_note(
        &client,
        &note_on(&book, &passages[1], "for me", json!("private")),
    )
    .await;
    let visitor = app.client();
    let seen = send(visitor.get(app.url(&format!("/api/books/{book}/annotations")))).await;
    let bodies: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["for all"]);
    let none =
        send(visitor.get(app.url(&format!("/api/books/{book}/annotations?margin=none")))).await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

async fn a_page_that_fills_the_limit_is_the_last(app: TestApp) {
    let (book, all_passages) = app.book_with_passages("trees.epub").await;
    let passages = long_passages(&all_passages);
    let (client, _) = app.reader("quin").await;
    for passage in &passages[..2] {
        app.post_note(&client, &note_on(&book, passage, "n", json!("private")))
            .await;
    }
    let notes =
        |query: &str| client.get(app.url(&format!("/api/books/{book}/annotations?{query}")));
    let full = send(notes("limit=2")).await;
    assert_eq!(full["items"].as_array().unwrap().len(), 2);
    assert!(full["next_cursor"].is_null(), "{full}");
    let first = send(notes("limit=1")).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page follows");
    let second = send(notes(&format!("limit=1&cursor={cursor}"))).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null(), "{second}");

    let count = all_passages.len();
    let all = send(client.get(app.url(&format!("/api/books/{book}/passages?limit={count}")))).await;
    assert_eq!(all["items"].as_array().unwrap().len(), count);
    assert!(all["next_cursor"].is_null());
    let books = send(client.get(app.url("/api/books?limit=1"))).await;
    assert!(books["next_cursor"].is_null(), "one book, one page");
    let search =
        send(client.get(app.url(&format!("/api/books/{book}/search?q=n&annotations_limit=2"))))
            .await;
    assert_eq!(search["annotations"]["items"].as_array().unwrap().len(), 2);
    assert!(search["annotations"]["next_cursor"].is_null(), "{search}");
}

/// With "my reading first", the counts tell on which passages others' notes wait (so the
/// reader offers `Reveal notes` there), without showing them.
async fn counts_say_where_notes_wait(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let passage_id = passage["id"].as_str().unwrap();
    let (ann, _) = app.reader("ann").await;
    let (ben, _) = app.reader("ben").await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann public", json!("public")),
    )
    .await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "ann private", json!("private")),
    )
    .await;
    let url = app.url(&format!("/api/books/{book}/annotations/counts"));
    // `(shown, waiting)` on the passage.
    let counts = |client: reqwest::Client| {
        let url = url.clone();
        async move {
            let body = send(client.get(url)).await;
            let shown = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["passage_id"] == passage_id)
                .map(|i| i["count"].as_i64().unwrap());
            (shown, body["waiting"][passage_id].as_i64())
        }
    };
    let prefer = |body: Value| {
        let ben = ben.clone();
        let url = app.url("/api/me/preferences");
        async move { send(ben.put(url).json(&body)).await }
    };
    // Without the preference nothing waits.
    prefer(json!({"margin": "everyone"})).await;
    assert_eq!(counts(ben.clone()).await, (Some(1), None));

    prefer(json!({"margin": "everyone", "my_reading_first": true})).await;
    // Only what the rule shows may wait: Ann's private note does not count.
    assert_eq!(counts(ben.clone()).await, (None, Some(1)));
    assert!(listed(&app, &ben, &book, "").await.is_empty());

    ben.post(app.url(&format!("/api/books/{book}/passages/{passage_id}/reveal")))
        .send()
        .await
        .unwrap();
    assert_eq!(counts(ben.clone()).await, (Some(1), None));

    // With "None" nothing is shown and nothing waits.
    prefer(json!({"margin": "none", "my_reading_first": true})).await;
    assert_eq!(counts(ben.clone()).await, (None, None));
}
