//! Search over HTTP on both databases: passages by word with highlighted snippets, and only
//! the annotations the caller may see, whatever the query's syntax.

use crate::common::{TestApp, expect_problem, note_on, send};
use reqwest::Client;
use serde_json::{Value, json};

both_databases!(
    passages_are_found_by_word_and_marked,
    only_visible_annotations_are_found,
    hostile_queries_are_plain_words,
);

async fn search(app: &TestApp, client: &Client, book: &str, query: &str) -> Value {
    send(
        client
            .get(app.url(&format!("/api/books/{book}/search")))
            .query(&[("q", query), ("margin", "everyone")]),
    )
    .await
}

fn items<'a>(found: &'a Value, kind: &str) -> &'a Vec<Value> {
    found[kind]["items"].as_array().unwrap()
}

fn bodies(found: &Value) -> Vec<String> {
    let mut bodies: Vec<String> = items(found, "annotations")
        .iter()
        .map(|n| n["body"].as_str().unwrap().to_owned())
        .collect();
    bodies.sort();
    bodies
}

async fn passages_are_found_by_word_and_marked(app: TestApp) {
    let (book, _) = app.book_with_passages("alice.epub").await;
    // Anyone may search a public book.
    let anonymous = app.client();
    let found = search(&app, &anonymous, &book, "RABBIT").await;
    let hits = items(&found, "passages");
    assert!(hits.len() > 3, "{found}");
    for hit in hits {
        let snippet = hit["snippet"].as_str().unwrap().to_lowercase();
        assert!(snippet.contains("<mark>rabbit</mark>"), "{snippet}");
        assert!(hit["id"].is_string() && hit["chapter"].is_i64() && hit["ordinal"].is_i64());
    }
    // Several words must all occur.
    for hit in items(
        &search(&app, &anonymous, &book, "white rabbit").await,
        "passages",
    ) {
        let snippet = hit["snippet"].as_str().unwrap().to_lowercase();
        assert!(snippet.contains("<mark>white</mark>") && snippet.contains("<mark>rabbit</mark>"));
    }
    assert!(
        items(
            &search(&app, &anonymous, &book, "xylophonic").await,
            "passages"
        )
        .is_empty()
    );

    // Pages follow reading order and do not overlap.
    let first = send(
        anonymous
            .get(app.url(&format!("/api/books/{book}/search")))
            .query(&[("q", "rabbit"), ("limit", "2")]),
    )
    .await;
    let cursor = first["passages"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = send(
        anonymous
            .get(app.url(&format!("/api/books/{book}/search")))
            .query(&[("q", "rabbit"), ("limit", "2"), ("cursor", &cursor)]),
    )
    .await;
    let position = |hit: &Value| (hit["chapter"].as_i64(), hit["ordinal"].as_i64());
    let pages: Vec<_> = items(&first, "passages")
        .iter()
        .chain(items(&second, "passages"))
        .map(position)
        .collect();
    assert_eq!(pages.len(), 4);
    assert!(pages.windows(2).all(|w| w[0] < w[1]), "{pages:?}");
    assert_eq!(
        &pages,
        &hits.iter().take(4).map(position).collect::<Vec<_>>()
    );
}

async fn only_visible_annotations_are_found(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    let (carl, _) = app.reader("carl").await;
    let group = app.group_with(&ann, &[&bob]).await;
    for (body, audience) in [
        ("zebra private", json!("private")),
        ("zebra circle", json!({ "group": group })),
        ("<b>Zebra</b> public", json!("public")),
        ("nothing to see", json!("public")),
    ] {
        app.post_note(&ann, &note_on(&book, &passage, body, audience))
            .await;
    }
    app.post_note(
        &bob,
        &note_on(&book, &passage, "zebra of bob's own", json!("private")),
    )
    .await;

    let all = ["<b>Zebra</b> public", "zebra circle", "zebra private"];
    assert_eq!(bodies(&search(&app, &ann, &book, "zebra").await), all);
    assert_eq!(
        bodies(&search(&app, &bob, &book, "zebra").await),
        ["<b>Zebra</b> public", "zebra circle", "zebra of bob's own"]
    );
    assert_eq!(
        bodies(&search(&app, &carl, &book, "ZEBRA").await),
        ["<b>Zebra</b> public"]
    );
    assert_eq!(
        bodies(&search(&app, &app.client(), &book, "zebra").await),
        ["<b>Zebra</b> public"]
    );

    // Snippets escape the note's text and mark the match.
    let found = search(&app, &carl, &book, "zebra").await;
    assert_eq!(
        items(&found, "annotations")[0]["snippet"],
        "&lt;b&gt;<mark>Zebra</mark>&lt;/b&gt; public"
    );
    // The margin still narrows: with a clean margin only my own notes are found.
    let clean = send(
        bob.get(app.url(&format!("/api/books/{book}/search")))
            .query(&[("q", "zebra"), ("margin", "none")]),
    )
    .await;
    assert_eq!(bodies(&clean), ["zebra of bob's own"]);
    // A quote matches too.
    let quote = passage["text"]
        .as_str()
        .unwrap()
        .chars()
        .skip(6)
        .take(6)
        .collect::<String>();
    assert_eq!(
        items(&search(&app, &carl, &book, &quote).await, "annotations").len(),
        2
    );
}

async fn hostile_queries_are_plain_words(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    app.post_note(
        &ann,
        &note_on(&book, &passage, "a hundred per cent", json!("private")),
    )
    .await;
    let mut tagged = note_on(&book, &passage, "Über alles", json!("private"));
    tagged["tags"] = json!(["alpha", "beta"]);
    app.post_note(&ann, &tagged).await;
    for query in [
        "\"",
        "\"unterminated rabbit",
        "AND (",
        "*",
        "rabbit*",
        "NEAR",
        "NEAR(rabbit alice, 2)",
        "rabbit OR",
        "-rabbit",
        "text:rabbit",
        "^rabbit",
        "{rabbit}",
        "'; DROP TABLE passages; --",
        "%",
        "_",
        "\\",
        "!!&&||",
        "<script>alert(1)</script>",
        "[",
        "]",
    ] {
        let found = search(&app, &ann, &book, query).await;
        // LIKE wildcards are literal: nothing matches everything.
        assert!(items(&found, "annotations").is_empty(), "{query}: {found}");
        for hit in items(&found, "passages") {
            assert!(
                hit["snippet"].as_str().unwrap().contains("<mark>"),
                "{query}"
            );
        }
    }
    // What is left of the syntax is the words, which still find their passages.
    for query in ["rabbit*", "\"rabbit", "(rabbit OR", "-rabbit"] {
        let found = search(&app, &ann, &book, query).await;
        assert!(!items(&found, "passages").is_empty(), "{query}");
    }
    // Words in bodies and tags are still found, whatever their case or script.
    let found = search(&app, &ann, &book, "Über").await;
    assert_eq!(
        items(&found, "annotations")[0]["snippet"],
        "<mark>Über</mark> alles"
    );
    let found = search(&app, &ann, &book, "BET").await;
    assert_eq!(
        items(&found, "annotations")[0]["snippet"],
        "alpha, <mark>bet</mark>a"
    );
    let url = app.url(&format!("/api/books/{book}/search"));
    expect_problem(ann.get(&url).send().await.unwrap(), 400).await;
    expect_problem(
        ann.get(&url).query(&[("q", "  ")]).send().await.unwrap(),
        400,
    )
    .await;
    expect_problem(
        ann.get(&url)
            .query(&[("q", "x".repeat(201))])
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    let missing = app.url(&format!(
        "/api/books/{}/search?q=rabbit",
        uuid::Uuid::new_v4()
    ));
    expect_problem(ann.get(&missing).send().await.unwrap(), 404).await;
}
