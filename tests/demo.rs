//! The demo seeding (`scholia serve --demo`) on a fresh database of either kind: its books,
//! its two readers in their group, and their notes as each of them and a stranger see them.

use crate::common::{self, TestApp, expect_problem, send};
use scholia::demo::{Demo, seed};
use scholia::epub::Limits;
use serde_json::json;

both_databases!(
    demo_readers_sign_in_and_see_what_they_may,
    demo_seeds_only_an_empty_database
);

async fn seeded(app: &TestApp) -> Demo {
    seed(&app.state.store, &Limits::default())
        .await
        .unwrap()
        .expect("a fresh database is seeded")
}

async fn sign_in(app: &TestApp, demo: &Demo, username: &str) -> reqwest::Client {
    let reader = demo
        .readers
        .iter()
        .find(|r| r.username == username)
        .unwrap();
    let client = app.client();
    send(client.post(app.url("/api/auth/login")).json(&json!({
        "username": reader.username, "password": reader.password,
    })))
    .await;
    client
}

/// The bodies of the notes `client` sees on `book` (everyone's, whatever the preference).
async fn bodies(app: &TestApp, client: &reqwest::Client, book: &str) -> Vec<String> {
    let url = app.url(&format!(
        "/api/books/{book}/annotations?margin=everyone&limit=500"
    ));
    let mut bodies: Vec<String> = send(client.get(url)).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|note| note["body"].as_str().unwrap().to_owned())
        .collect();
    bodies.sort();
    bodies
}

async fn demo_readers_sign_in_and_see_what_they_may(app: TestApp) {
    let demo = seeded(&app).await;
    let catalogue = send(app.client().get(app.url("/api/books"))).await;
    let mut titles: Vec<&str> = catalogue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        ["Alice's Adventures in Wonderland", "Metamorphosis"]
    );
    let alice = demo.books[0].0.to_string();

    let ada = sign_in(&app, &demo, "ada").await;
    let basil = sign_in(&app, &demo, "basil").await;
    assert_ne!(demo.readers[0].password, demo.readers[1].password);
    assert!(demo.readers.iter().all(|r| r.password.len() >= 16));
    for client in [&ada, &basil] {
        let groups = send(client.get(app.url("/api/groups"))).await;
        assert_eq!(groups["items"][0]["id"], demo.group.to_string());
        assert_eq!(groups["items"][0]["name"], "Demo reading circle");
        assert_eq!(groups["items"][0]["member_count"], 2);
        assert!(!groups["items"][0]["rules"].as_str().unwrap().is_empty());
    }

    let ada_sees = bodies(&app, &ada, &alice).await;
    let basil_sees = bodies(&app, &basil, &alice).await;
    let stranger_sees = bodies(&app, &app.client(), &alice).await;
    let has = |seen: &[String], start: &str| seen.iter().any(|b| b.starts_with(start));
    // Ada's private note is hers alone; Basil's likewise; the circle's notes are for both.
    assert!(has(&ada_sees, "Carroll breaks grammar"));
    assert!(!has(&basil_sees, "Carroll breaks grammar"));
    assert!(has(&basil_sees, "Look up whether"));
    assert!(!has(&ada_sees, "Look up whether"));
    for circle in [
        "Why does she check",
        "Because she had read",
        "Is the Cat right?",
    ] {
        assert!(
            has(&ada_sees, circle) && has(&basil_sees, circle),
            "{circle}"
        );
        assert!(!has(&stranger_sees, circle), "{circle}");
    }
    assert_eq!(ada_sees.len(), 6);
    assert_eq!(basil_sees.len(), 6);
    assert_eq!(
        stranger_sees.len(),
        2,
        "only the public notes: {stranger_sees:?}"
    );

    // With the default margin ("my groups") Basil sees the circle's notes at once.
    let default_margin = send(basil.get(app.url(&format!("/api/books/{alice}/annotations")))).await;
    let circle_note = default_margin["items"].as_array().unwrap().iter().any(|n| {
        n["body"]
            .as_str()
            .unwrap()
            .starts_with("Why does she check")
    });
    assert!(circle_note, "{default_margin}");

    // Every note is anchored on the words it quotes, and the reply sits in its thread.
    let url = app.url(&format!(
        "/api/books/{alice}/annotations?margin=everyone&limit=500"
    ));
    let notes = send(ada.get(url)).await;
    for note in notes["items"].as_array().unwrap() {
        let passage = send(app.client().get(app.url(&format!(
            "/api/books/{alice}/passages?chapter={}&limit=500",
            note["chapter"]
        ))))
        .await;
        let text = passage["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == note["passage_id"])
            .map(|p| p["text"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("passage of {note}"));
        let chars: Vec<char> = text.chars().collect();
        let (start, end) = (
            note["start"].as_u64().unwrap() as usize,
            note["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(note["exact"], chars[start..end].iter().collect::<String>());
    }
    let reply = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["body"].as_str().unwrap().starts_with("Because"))
        .unwrap();
    assert_eq!(reply["motivation"], "replying");
    assert!(reply["reply_to"].is_string());

    // The demo readers annotate like anyone: Basil writes in the circle, Ada sees it.
    let passages = send(
        app.client()
            .get(app.url(&format!("/api/books/{alice}/passages?chapter=3"))),
    )
    .await;
    let passage = &passages["items"][1];
    let note = common::note_on(
        &alice,
        passage,
        "Basil's new note",
        json!({"group": demo.group}),
    );
    app.post_note(&basil, &note).await;
    assert!(has(&bodies(&app, &ada, &alice).await, "Basil's new note"));
}

async fn demo_seeds_only_an_empty_database(app: TestApp) {
    app.reader("early").await;
    let before = app.count("books").await;
    assert!(
        seed(&app.state.store, &Limits::default())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.count("books").await, before);
    assert_eq!(app.count("users").await, 1);
    let refused = app
        .client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "ada", "password": "anything at all"}))
        .send()
        .await
        .unwrap();
    expect_problem(refused, 401).await;
}
