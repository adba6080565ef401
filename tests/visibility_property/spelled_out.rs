//! The scenario, spelled out: a third reader sees nothing of two group readers'
//! notes, on both databases.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Client;
use scholia::store::users::Role;
use serde_json::{Value, json};

use super::operations::{call, ok};
use crate::common::TestApp;

both_databases!(third_reader_sees_nothing_of_two_group_readers);

/// The ids a listing (every page) shows to `client`.
async fn listed_ids(app: &TestApp, client: &Client, book: &str, query: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let url = format!("/api/books/{book}/annotations?limit=2{query}&cursor={cursor}");
        let page = ok(client.get(app.url(&url))).await;
        for item in page["items"].as_array().unwrap() {
            assert!(ids.insert(item["id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return ids,
        }
    }
}

/// Notes per passage as the counts endpoint gives them.
async fn counted(app: &TestApp, client: &Client, book: &str, query: &str) -> BTreeMap<String, u64> {
    let url = format!("/api/books/{book}/annotations/counts?{query}");
    ok(client.get(app.url(&url))).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["passage_id"].as_str().unwrap().to_owned(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn third_reader_sees_nothing_of_two_group_readers(app: TestApp) {
    let (librarian, _) = app.user_with_role("librarian", Role::Librarian).await;
    let book: Value = app
        .upload(&librarian, "trees.epub", &[])
        .await
        .json()
        .await
        .unwrap();
    let book = book["id"].as_str().unwrap().to_owned();
    let passages = ok(librarian.get(app.url(&format!("/api/books/{book}/passages")))).await;
    let passage = passages["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["text"].as_str().unwrap().chars().count() > 20)
        .unwrap()
        .clone();
    let passage_id = passage["id"].as_str().unwrap().to_owned();
    let exact: String = passage["text"].as_str().unwrap().chars().take(10).collect();

    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let (cy, _) = app.reader("cy").await;
    let group = ok(ada.post(app.url("/api/groups")).json(&json!({
        "name": "Two readers", "description": "", "rules": "Be kind.", "open": false,
    })))
    .await["id"]
        .clone();
    let invite = ok(ada
        .post(app.url(&format!("/api/groups/{}/invites", group.as_str().unwrap())))
        .json(&json!({})))
    .await;
    ok(ben
        .post(app.url("/api/groups/join"))
        .json(&json!({"code": invite["code"], "accept_rules": true})))
    .await;

    let write = |client: &Client, body: &str, audience: Value, reply_to: Option<&str>| {
        let request = client.post(app.url("/api/annotations")).json(&json!({
            "book_id": book, "passage_id": passage_id, "start": 0, "end": 10, "exact": exact,
            "body": body, "audience": audience, "reply_to": reply_to,
        }));
        async move { ok(request).await["id"].as_str().unwrap().to_owned() }
    };
    let shared = json!({ "group": group });
    let ada_group = write(&ada, "ada to the group", shared.clone(), None).await;
    let ada_private = write(&ada, "ada alone", json!("private"), None).await;
    let ben_group = write(&ben, "ben to the group", shared.clone(), None).await;
    let ben_private = write(&ben, "ben alone", json!("private"), None).await;
    let ben_reply = write(&ben, "ben answers ada", shared.clone(), Some(&ada_group)).await;
    let ben_private_reply = write(&ben, "ben thinks", json!("private"), Some(&ada_group)).await;
    let theirs = [
        &ada_group,
        &ada_private,
        &ben_group,
        &ben_private,
        &ben_reply,
        &ben_private_reply,
    ];

    // Cy, outside the group, sees none of it: listings in every margin, counts, one by one.
    for query in ["", "&margin=none", "&margin=groups", "&margin=everyone"] {
        assert!(
            listed_ids(&app, &cy, &book, query).await.is_empty(),
            "cy {query}"
        );
        let query = format!("{query}&order=reading&passage={passage_id}");
        assert!(
            listed_ids(&app, &cy, &book, &query).await.is_empty(),
            "cy {query}"
        );
        assert!(
            counted(&app, &cy, &book, query.trim_start_matches('&'))
                .await
                .is_empty()
        );
    }
    for id in theirs {
        let (status, _) = call(cy.get(app.url(&format!("/api/annotations/{id}")))).await;
        assert_eq!(status, 404, "cy must not read {id}");
    }
    // Nor does a signed-out reader.
    let anonymous = app.client();
    assert!(
        listed_ids(&app, &anonymous, &book, "&margin=everyone")
            .await
            .is_empty()
    );
    for id in theirs {
        let (status, _) = call(anonymous.get(app.url(&format!("/api/annotations/{id}")))).await;
        assert_eq!(status, 404);
    }
    // Cy's own note is all Cy sees, whatever the margin.
    let cy_note = write(&cy, "cy's thought", json!("private"), None).await;
    for query in ["", "&margin=none", "&margin=groups", "&margin=everyone"] {
        assert_eq!(
            listed_ids(&app, &cy, &book, query).await,
            BTreeSet::from([cy_note.clone()]),
            "cy {query}"
        );
        let counts = counted(&app, &cy, &book, query.trim_start_matches('&')).await;
        assert_eq!(counts, BTreeMap::from([(passage_id.clone(), 1)]));
    }

    // Ben sees the group's notes and his own, never Ada's private note.
    let ben_sees = BTreeSet::from(
        [
            &ada_group,
            &ben_group,
            &ben_private,
            &ben_reply,
            &ben_private_reply,
        ]
        .map(|s| s.clone()),
    );
    assert_eq!(
        listed_ids(&app, &ben, &book, "&margin=everyone").await,
        ben_sees
    );
    assert_eq!(listed_ids(&app, &ben, &book, "").await, ben_sees);
    let (status, _) = call(ben.get(app.url(&format!("/api/annotations/{ada_private}")))).await;
    assert_eq!(status, 404);
    // Ada sees Ben's group note and group reply (counted under her note), not his private ones.
    let ada_note = ok(ada.get(app.url(&format!("/api/annotations/{ada_group}")))).await;
    assert_eq!(
        ada_note["replies"], 1,
        "only the reply shared with the group"
    );
    for id in [&ben_private, &ben_private_reply] {
        let (status, _) = call(ada.get(app.url(&format!("/api/annotations/{id}")))).await;
        assert_eq!(status, 404);
    }

    // With margin=none, Ada sees only her own notes: asked for once, and as her preference.
    let ada_own = BTreeSet::from([ada_group.clone(), ada_private.clone()]);
    assert_eq!(listed_ids(&app, &ada, &book, "&margin=none").await, ada_own);
    ok(ada
        .put(app.url("/api/me/preferences"))
        .json(&json!({"margin": "none", "my_reading_first": false, "books": {}})))
    .await;
    assert_eq!(listed_ids(&app, &ada, &book, "").await, ada_own);
    assert_eq!(
        counted(&app, &ada, &book, "").await,
        BTreeMap::from([(passage_id.clone(), 2)])
    );
    let listing = ok(ada.get(app.url(&format!("/api/books/{book}/annotations")))).await;
    let under_hers = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == ada_group.as_str())
        .unwrap()["replies"]
        .clone();
    assert_eq!(under_hers, 0, "replies her margin hides are not counted");
}
