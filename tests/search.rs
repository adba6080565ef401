//! Search over HTTP on both databases: passages by word with highlighted snippets, and only
//! the annotations the caller may see, whatever the query's syntax.

use crate::common::{TestApp, expect_problem, is_long, note_on, send};
use reqwest::Client;
use scholia::store::users::Role;
use serde_json::{Value, json};

both_databases!(
    a_word_in_many_notes_of_the_library_is_found_along_the_book,
    passages_are_found_by_word_and_marked,
    passages_stay_found_while_other_books_come_and_go,
    only_visible_annotations_are_found,
    hostile_queries_are_plain_words,
    japanese_passages_are_found_by_short_and_long_words,
    cjk_notes_are_found_by_short_and_long_words,
    edited_notes_are_found_by_their_new_words_only,
    deleted_notes_are_not_found,
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

/// A book's passages are indexed with it (on SQLite by one statement once its import has
/// stored them all): another book imported, then deleted, leaves the first one's matches as
/// they were, and on SQLite FTS5 finds its index agreeing with the passages it indexes.
async fn passages_stay_found_while_other_books_come_and_go(app: TestApp) {
    let (alice, _) = app.book_with_passages("alice.epub").await;
    let anonymous = app.client();
    let ids = |found: &Value| {
        let mut ids: Vec<String> = items(found, "passages")
            .iter()
            .map(|hit| hit["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let rabbits = ids(&search(&app, &anonymous, &alice, "rabbit").await);
    assert!(rabbits.len() > 3, "{rabbits:?}");

    let other = app.import_fixture("metamorphosis-epub2.epub").await;
    assert!(!ids(&search(&app, &anonymous, &other, "Gregor").await).is_empty());
    assert!(ids(&search(&app, &anonymous, &alice, "Gregor").await).is_empty());
    assert_eq!(
        ids(&search(&app, &anonymous, &alice, "rabbit").await),
        rabbits
    );

    let (librarian, _) = app.user_with_role("remover", Role::Librarian).await;
    let deleted = librarian
        .delete(app.url(&format!("/api/books/{other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        ids(&search(&app, &anonymous, &alice, "rabbit").await),
        rabbits
    );
    if app.state.store.raw().is_sqlite() {
        // Fails with SQLITE_CORRUPT_VTAB if a row is indexed twice, missing, or indexed with
        // another text than its own (the 1 compares the index with the passages table).
        app.execute(
            "INSERT INTO passages_fts (passages_fts, rank) VALUES ('integrity-check', 1)",
            &[],
        )
        .await;
    }
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
    // A NUL ends a string in SQLite's LIKE (`%\0%` matched everything) and FTS5, and
    // PostgreSQL refuses it.
    for query in ["\0", "rab\0bit"] {
        expect_problem(
            ann.get(&url).query(&[("q", query)]).send().await.unwrap(),
            400,
        )
        .await;
    }
    let missing = app.url(&format!(
        "/api/books/{}/search?q=rabbit",
        uuid::Uuid::new_v4()
    ));
    expect_problem(ann.get(&missing).send().await.unwrap(), 404).await;
}

/// The passages found for `query`, each snippet checked to mark `marked`.
async fn passages_marking(app: &TestApp, book: &str, query: &str, marked: &str) -> Vec<Value> {
    let found = search(app, &app.client(), book, query).await;
    let hits = items(&found, "passages").clone();
    for hit in &hits {
        let snippet = hit["snippet"].as_str().unwrap();
        assert!(
            snippet.contains(&format!("<mark>{marked}</mark>")),
            "{query}: {snippet}"
        );
    }
    hits
}

async fn japanese_passages_are_found_by_short_and_long_words(app: TestApp) {
    // Japanese has no spaces between words: a word is found inside its sentence, by a query
    // too short for a trigram (山路, two characters) and by a longer one, across the ruby
    // reading (やまみち) that the passage's text leaves out.
    let (book, passages) = app
        .book_with_passages("kusamakura-japanese-vertical-writing.epub")
        .await;
    let with = |word: &str| {
        passages
            .iter()
            .filter(|p| p["text"].as_str().unwrap().contains(word))
            .map(|p| p["id"].clone())
            .collect::<Vec<_>>()
    };
    let ids = |hits: &[Value]| hits.iter().map(|h| h["id"].clone()).collect::<Vec<_>>();
    assert!(with("山路").len() >= 3);
    let short = passages_marking(&app, &book, "山路", "山路").await;
    assert_eq!(ids(&short), with("山路"));
    let long = passages_marking(&app, &book, "山路を登り", "山路を登り").await;
    assert_eq!(ids(&long), with("山路を登り"));
    assert_eq!(long.len(), 1);
    // Two words, one short and one long, must both occur.
    let both = passages_marking(&app, &book, "山路 景物", "景物").await;
    assert_eq!(both.len(), 1);
    assert!(
        both[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>山路</mark>")
    );

    // Notes on the book that do not hold the word: passages are found, no note is.
    let (ann, _) = app.reader("ann").await;
    let passage = passages.iter().find(|p| is_long(p)).unwrap();
    app.post_note(&ann, &note_on(&book, passage, "春の景色", json!("public")))
        .await;
    let found = search(&app, &ann, &book, "山路").await;
    assert!(items(&found, "annotations").is_empty(), "{found}");
    assert_eq!(ids(items(&found, "passages")), with("山路"));
    let found = search(&app, &ann, &book, "xylophonic").await;
    assert!(items(&found, "annotations").is_empty() && items(&found, "passages").is_empty());
}

async fn cjk_notes_are_found_by_short_and_long_words(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    for body in [
        "山路を登りながら、こう考えた。",
        "知者乐水，仁者乐山。",
        "ＪＲ山手線の駅",
    ] {
        app.post_note(&ann, &note_on(&book, &passage, body, json!("public")))
            .await;
    }
    let carl = app.client();
    let snippets = |found: &Value| {
        items(found, "annotations")
            .iter()
            .map(|n| n["snippet"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // Two characters (no trigram), three, and more.
    for (query, expected) in [
        ("山路", vec!["<mark>山路</mark>を登りながら、こう考えた。"]),
        (
            "登りな",
            vec!["山路を<mark>登りな</mark>がら、こう考えた。"],
        ),
        ("仁者", vec!["知者乐水，<mark>仁者</mark>乐山。"]),
        ("仁者乐山", vec!["知者乐水，<mark>仁者乐山</mark>。"]),
        // Full-width Latin letters, common in Japanese text, in either case.
        ("ｊｒ山手", vec!["<mark>ＪＲ山手</mark>線の駅"]),
    ] {
        let found = search(&app, &carl, &book, query).await;
        assert_eq!(snippets(&found), expected, "{query}");
    }
    // All three hold 山, none 山水.
    assert_eq!(
        items(&search(&app, &carl, &book, "山").await, "annotations").len(),
        3
    );
    assert!(items(&search(&app, &carl, &book, "山水").await, "annotations").is_empty());
}

async fn edited_notes_are_found_by_their_new_words_only(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let note = app
        .post_note(
            &ann,
            &note_on(&book, &passage, "Война и мир", json!("private")),
        )
        .await;
    let id = note["id"].as_str().unwrap();
    // Any case, in any script.
    assert_eq!(
        bodies(&search(&app, &ann, &book, "ВОЙНА").await),
        ["Война и мир"]
    );
    send(
        ann.patch(app.url(&format!("/api/annotations/{id}")))
            .json(&json!({"body": "Преступление и наказание", "tags": ["Достоевский"]})),
    )
    .await;
    for old in ["ВОЙНА", "война", "мир"] {
        let found = search(&app, &ann, &book, old).await;
        assert!(items(&found, "annotations").is_empty(), "{old}: {found}");
    }
    for new in ["НАКАЗАНИЕ", "ступл", "и н", "достоевский"] {
        let found = search(&app, &ann, &book, new).await;
        assert_eq!(bodies(&found), ["Преступление и наказание"], "{new}");
    }
    // A second edit, of the tags alone, takes the old tag out of the index too.
    send(
        ann.patch(app.url(&format!("/api/annotations/{id}")))
            .json(&json!({"tags": ["Толстой"]})),
    )
    .await;
    assert!(
        items(
            &search(&app, &ann, &book, "ДОСТОЕВСКИЙ").await,
            "annotations"
        )
        .is_empty()
    );
    assert_eq!(
        bodies(&search(&app, &ann, &book, "ТОЛСТОЙ").await),
        ["Преступление и наказание"]
    );
}

async fn deleted_notes_are_not_found(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ann, _) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    let mut ids = Vec::new();
    for body in ["Ζωή alone", "Ζωή answered"] {
        let note = app
            .post_note(&ann, &note_on(&book, &passage, body, json!("public")))
            .await;
        ids.push(note["id"].as_str().unwrap().to_owned());
    }
    // The second note keeps a reply, so that deleting it leaves a tombstone.
    app.post_note(
        &bob,
        &json!({"book_id": book, "reply_to": ids[1], "body": "a reply", "audience": "public"}),
    )
    .await;
    assert_eq!(
        bodies(&search(&app, &bob, &book, "ΖΩΉ").await),
        ["Ζωή alone", "Ζωή answered"]
    );
    // The quote (of passage characters 5 to 15, which the reply shares) is found too.
    let quote: String = passage["text"]
        .as_str()
        .unwrap()
        .chars()
        .skip(6)
        .take(6)
        .collect();
    assert_eq!(
        bodies(&search(&app, &bob, &book, &quote).await),
        ["a reply", "Ζωή alone", "Ζωή answered"]
    );
    for id in &ids {
        let response = ann
            .delete(app.url(&format!("/api/annotations/{id}")))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    // Neither the note gone nor the tombstone, which keeps its quote but no words, is found.
    for query in ["ζωή", "alone", "answered"] {
        let found = search(&app, &bob, &book, query).await;
        assert!(items(&found, "annotations").is_empty(), "{query}: {found}");
    }
    assert_eq!(
        bodies(&search(&app, &bob, &book, &quote).await),
        ["a reply"]
    );
}

/// A word in more notes of the library than a search reads through the index (1,000 on
/// SQLite, where it then walks the book): the book's notes holding it are found all the same,
/// through the same rule, and none of another book's.
async fn a_word_in_many_notes_of_the_library_is_found_along_the_book(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (other_book, other_passages) = app.book_with_passages("trees.epub").await;
    let other_passage = other_passages.into_iter().find(is_long).unwrap();
    let (ann, _) = app.reader("ann").await;
    let (carl, _) = app.reader("carl").await;
    for chunk in (0..1_100).collect::<Vec<_>>().chunks(50) {
        futures::future::join_all(chunk.iter().map(|i| {
            let note = note_on(
                &other_book,
                &other_passage,
                &format!("zebra elsewhere {i}"),
                json!("public"),
            );
            let ann = &ann;
            let app = &app;
            async move { app.post_note(ann, &note).await }
        }))
        .await;
    }
    for (body, audience) in [
        ("a ZEBRA in public", json!("public")),
        ("my own zebra", json!("private")),
        ("no stripes here", json!("public")),
    ] {
        app.post_note(&ann, &note_on(&book, &passage, body, audience))
            .await;
    }
    // PostgreSQL estimates the library's matches from ANALYZE's sample of the notes, which
    // its autovacuum would take in its own time; SQLite counts them in its index.
    if !app.state.store.raw().is_sqlite() {
        app.execute("ANALYZE annotations", &[]).await;
    }
    assert_eq!(
        bodies(&search(&app, &ann, &book, "zebra").await),
        ["a ZEBRA in public", "my own zebra"]
    );
    assert_eq!(
        bodies(&search(&app, &carl, &book, "Zebra").await),
        ["a ZEBRA in public"]
    );
    assert_eq!(
        bodies(&search(&app, &app.client(), &book, "zebra").await),
        ["a ZEBRA in public"]
    );
    let elsewhere = search(&app, &carl, &other_book, "zebra").await;
    assert_eq!(items(&elsewhere, "annotations").len(), 20, "{elsewhere}");
}
