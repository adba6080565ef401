//! Consent that cannot be side-stepped (DESIGN.md, "What else follows"): opening groups,
//! notices of changed rules, reports and the reported, tombstones, anonymizing, written_blind,
//! user ids and mutes. Both databases.

use crate::common::{TestApp, expect_problem, note_on, send};
use reqwest::Client;
use serde_json::{Value, json};

both_databases!(
    only_the_owner_opens_a_group_and_not_over_members_notes,
    changed_rules_and_openness_show_as_notices_until_dismissed,
    reports_never_reach_the_reported_author,
    a_tombstone_names_nobody,
    anonymizing_keeps_time_stamps,
    written_blind_is_the_authors_to_show,
    user_ids_tell_nothing_of_when_an_account_was_made,
    only_people_whose_notes_i_read_can_be_muted,
);

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn patch_group(
    app: &TestApp,
    client: &Client,
    group: &str,
    body: Value,
) -> reqwest::Response {
    client
        .patch(app.url(&format!("/api/groups/{group}")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn make_facilitator(app: &TestApp, owner: &Client, group: &str, user: &Value) {
    let user = id(user);
    send(
        owner
            .patch(app.url(&format!("/api/groups/{group}/members/{user}")))
            .json(&json!({"role": "facilitator"})),
    )
    .await;
}

async fn only_the_owner_opens_a_group_and_not_over_members_notes(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let (fay, fay_user) = app.reader("fay").await;
    let group = app.group_with(&ada, &[&ben, &fay]).await;
    make_facilitator(&app, &ada, &group, &fay_user).await;

    // The invitation says what invite-only promises.
    let invite = send(
        ada.post(app.url(&format!("/api/groups/{group}/invites")))
            .json(&json!({})),
    )
    .await;
    let code = invite["code"].as_str().unwrap();
    let preview = send(
        app.client()
            .get(app.url(&format!("/api/groups/invites/{code}"))),
    )
    .await;
    let audience = preview["audience"].as_str().unwrap();
    assert!(
        audience.contains("invite-only") && audience.contains("Only its owner can open it"),
        "{audience}"
    );

    // A facilitator may change the group, but not open it.
    let detail = expect_problem(
        patch_group(&app, &fay, &group, json!({"open": true})).await,
        403,
    )
    .await;
    assert!(detail.contains("owner"), "{detail}");
    send(
        fay.patch(app.url(&format!("/api/groups/{group}")))
            .json(&json!({"description": "Chapter by chapter"})),
    )
    .await;

    // Once a member wrote under invite-only rules, not even the owner opens it.
    app.post_note(
        &ben,
        &note_on(
            &book,
            &passage,
            "ben to the circle",
            json!({"group": group}),
        ),
    )
    .await;
    let detail = expect_problem(
        patch_group(&app, &ada, &group, json!({"open": true})).await,
        409,
    )
    .await;
    assert!(detail.contains("invite-only"), "{detail}");
    let shown = send(ada.get(app.url(&format!("/api/groups/{group}")))).await;
    assert_eq!(shown["open"], false);
    let (cy, _) = app.reader("cy").await;
    let join = cy
        .post(app.url("/api/groups/join"))
        .json(&json!({"group_id": group, "accept_rules": true}))
        .send()
        .await
        .unwrap();
    expect_problem(join, 404).await;

    // The owner's own notes do not stand in the way.
    let own = app.group_with(&ada, &[&ben]).await;
    app.post_note(
        &ada,
        &note_on(&book, &passage, "ada's opening", json!({"group": own})),
    )
    .await;
    let opened = send(
        ada.patch(app.url(&format!("/api/groups/{own}")))
            .json(&json!({"open": true})),
    )
    .await;
    assert_eq!(opened["open"], true);
}

async fn notices(app: &TestApp, client: &Client, group: &str) -> Vec<Value> {
    let shown = send(client.get(app.url(&format!("/api/groups/{group}")))).await;
    shown["notices"].as_array().unwrap().clone()
}

async fn changed_rules_and_openness_show_as_notices_until_dismissed(app: TestApp) {
    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let group = app.group_with(&ada, &[&ben]).await;
    assert_eq!(notices(&app, &ben, &group).await, Vec::<Value>::new());

    send(
        ada.patch(app.url(&format!("/api/groups/{group}")))
            .json(&json!({"rules": "Quote before you judge."})),
    )
    .await;
    send(
        ada.patch(app.url(&format!("/api/groups/{group}")))
            .json(&json!({"open": true})),
    )
    .await;
    // The member is told of both, with their time; the owner who made them is not.
    let told = notices(&app, &ben, &group).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[0]["kind"], "rules");
    assert_eq!(told[0]["rules"], "Quote before you judge.");
    assert!(told[0]["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(told[1]["kind"], "opened");
    assert!(told[1]["message"].as_str().unwrap().contains("open"));
    assert_eq!(notices(&app, &ada, &group).await, Vec::<Value>::new());

    // Someone joining now accepts the rules as they are: nothing to be told.
    let (cy, _) = app.reader("cy").await;
    send(
        cy.post(app.url("/api/groups/join"))
            .json(&json!({"group_id": group, "accept_rules": true})),
    )
    .await;
    assert_eq!(notices(&app, &cy, &group).await, Vec::<Value>::new());

    // Dismissed, a notice is gone for that member only; others cannot dismiss it.
    let first = id(&told[0]);
    let dismiss = |client: &Client, notice: &str| {
        client
            .post(app.url(&format!("/api/groups/{group}/notices/{notice}/dismiss")))
            .send()
    };
    assert_eq!(dismiss(&ben, &first).await.unwrap().status(), 204);
    assert_eq!(dismiss(&ben, &first).await.unwrap().status(), 204);
    let left = notices(&app, &ben, &group).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["kind"], "opened");
    let (dan, _) = app.reader("dan").await;
    expect_problem(dismiss(&dan, &first).await.unwrap(), 404).await;
    expect_problem(dismiss(&ben, "no-such-notice").await.unwrap(), 404).await;
}

async fn reports_never_reach_the_reported_author(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let (fay, fay_user) = app.reader("fay").await;
    let group = app.group_with(&ada, &[&ben, &fay]).await;
    make_facilitator(&app, &ada, &group, &fay_user).await;
    let fays = app
        .post_note(
            &fay,
            &note_on(&book, &passage, "fay leads", json!({"group": group})),
        )
        .await;
    let note = id(&fays);
    send(
        ben.post(app.url(&format!("/api/annotations/{note}/reports")))
            .json(&json!({"reason": "ben thinks fay is unfair"})),
    )
    .await;

    // The owner sees the report; the facilitator it is about does not.
    let queue = send(ada.get(app.url("/api/reports"))).await;
    assert_eq!(queue["items"][0]["reason"], "ben thinks fay is unfair");
    let queue = send(fay.get(app.url("/api/reports"))).await;
    assert_eq!(queue["items"], json!([]), "{queue}");

    // Nor does she act on her own note: not hiding it, not unhiding it once hidden.
    let hide = |client: &Client, hidden: bool| {
        client
            .post(app.url(&format!("/api/annotations/{note}/hide")))
            .json(&json!({"hidden": hidden}))
            .send()
    };
    expect_problem(hide(&fay, true).await.unwrap(), 403).await;
    assert_eq!(hide(&ada, true).await.unwrap().status(), 200);
    expect_problem(hide(&fay, false).await.unwrap(), 403).await;
    let seen = send(fay.get(app.url(&format!("/api/annotations/{note}")))).await;
    assert_eq!(seen["hidden"], true);
}

async fn a_tombstone_names_nobody(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let note = app
        .post_note(
            &ada,
            &note_on(&book, &passage, "ada speaks", json!("public")),
        )
        .await;
    let answer = app
        .post_note(
            &ben,
            &json!({"book_id": book, "reply_to": note["id"], "body": "ben answers",
                    "audience": "public"}),
        )
        .await;
    let response = ada
        .delete(app.url(&format!("/api/annotations/{}", id(&note))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for client in [&ben, &ada, &app.client()] {
        let tombstone = send(client.get(app.url(&format!("/api/annotations/{}", id(&note))))).await;
        assert_eq!(tombstone["deleted"], true);
        assert_eq!(
            tombstone["author"],
            json!({"id": null, "display_name": null})
        );
        assert_eq!(tombstone["mine"], false);
        // Nothing of ada's is left: no word of hers in any value. Ids are skipped, being hex
        // that can spell "ada" by chance; the author's id is checked to be null above.
        let words = strings_except_ids(&tombstone);
        assert!(!words.iter().any(|w| w.contains("ada")), "{tombstone}");
    }
    let listed =
        send(ben.get(app.url(&format!("/api/books/{book}/annotations?margin=everyone")))).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(!listed.to_string().contains("ada the reader"));
    assert!(items.iter().any(|n| n["id"] == answer["id"]));
}

/// Every string in `value`, keys and values, except ids (UUIDs, and what `id` and `*_id`
/// fields hold).
fn strings_except_ids(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) if s.parse::<uuid::Uuid>().is_err() => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings_except_ids).collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let is_id = k == "id" || k.ends_with("_id");
                let inner = if is_id {
                    Vec::new()
                } else {
                    strings_except_ids(v)
                };
                std::iter::once(k.clone()).chain(inner)
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn anonymizing_keeps_time_stamps(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let (cy, _) = app.reader("cy").await;
    let group = app.group_with(&ada, &[&ben]).await;
    let mut written = Vec::new();
    for body in ["ben one", "ben two"] {
        written.push(
            app.post_note(
                &ben,
                &note_on(&book, &passage, body, json!({"group": group})),
            )
            .await,
        );
    }
    let cys = app
        .post_note(&cy, &note_on(&book, &passage, "cy to all", json!("public")))
        .await;
    send(
        ben.post(app.url(&format!("/api/groups/{group}/leave")))
            .json(&json!({"notes": "anonymize"})),
    )
    .await;
    send(
        cy.delete(app.url("/api/me"))
            .json(&json!({"password": "password-cy", "shared_notes": "anonymize"})),
    )
    .await;
    written.push(cys);
    for before in &written {
        let after = send(ada.get(app.url(&format!("/api/annotations/{}", id(before))))).await;
        assert_eq!(after["author"]["id"], Value::Null, "{after}");
        assert_eq!(after["updated"], before["updated"], "{after}");
        assert_eq!(after["created"], before["created"]);
    }
}

async fn written_blind_is_the_authors_to_show(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ada, _) = app.reader("ada").await;
    let (ben, _) = app.reader("ben").await;
    let prefs = send(
        ben.put(app.url("/api/me/preferences"))
            .json(&json!({"my_reading_first": true})),
    )
    .await;
    assert_eq!(prefs["show_written_blind"], false);
    let note = app
        .post_note(
            &ben,
            &note_on(&book, &passage, "ben first", json!("public")),
        )
        .await;
    assert_eq!(note["written_blind"], true, "the author always sees it");
    let url = app.url(&format!("/api/annotations/{}", id(&note)));
    assert_eq!(send(ada.get(&url)).await["written_blind"], false);
    let listing = app.url(&format!("/api/books/{book}/annotations?margin=everyone"));
    assert_eq!(
        send(ada.get(&listing)).await["items"][0]["written_blind"],
        false
    );

    let prefs = send(
        ben.put(app.url("/api/me/preferences"))
            .json(&json!({"show_written_blind": true})),
    )
    .await;
    assert_eq!(prefs["show_written_blind"], true);
    assert_eq!(send(ada.get(&url)).await["written_blind"], true);
    assert_eq!(
        send(ada.get(&listing)).await["items"][0]["written_blind"],
        true
    );
}

async fn user_ids_tell_nothing_of_when_an_account_was_made(app: TestApp) {
    for name in ["ada", "ben", "cy"] {
        let (_, user) = app.reader(name).await;
        let user_id: uuid::Uuid = id(&user).parse().unwrap();
        assert_eq!(user_id.get_version_num(), 4, "{user_id}");
    }
}

async fn only_people_whose_notes_i_read_can_be_muted(app: TestApp) {
    let (book, passage) = app.long_passage().await;
    let (ada, _) = app.reader("ada").await;
    let (ben, ben_user) = app.reader("ben").await;
    let mute = |user_id: String| {
        ada.post(app.url("/api/me/mutes"))
            .json(&json!({"user_id": user_id}))
            .send()
    };
    // A made-up id and a real one whose notes Ada cannot read answer alike.
    let unknown = expect_problem(mute(uuid::Uuid::new_v4().to_string()).await.unwrap(), 404).await;
    app.post_note(
        &ben,
        &note_on(&book, &passage, "ben alone", json!("private")),
    )
    .await;
    let real = expect_problem(mute(id(&ben_user)).await.unwrap(), 404).await;
    assert_eq!(unknown, real);

    let public = app
        .post_note(
            &ben,
            &note_on(&book, &passage, "ben to all", json!("public")),
        )
        .await;
    assert_eq!(mute(id(&ben_user)).await.unwrap().status(), 204);
    let mutes = send(ada.get(app.url("/api/me/mutes"))).await;
    assert_eq!(
        mutes["items"],
        json!([{"user_id": id(&ben_user), "display_name": "ben the reader"}])
    );

    // Once Ada reads nothing of his, the mute stays but his name no longer follows him.
    send(
        ben.patch(app.url(&format!("/api/annotations/{}", id(&public))))
            .json(&json!({"audience": "private"})),
    )
    .await;
    let mutes = send(ada.get(app.url("/api/me/mutes"))).await;
    assert_eq!(
        mutes["items"],
        json!([{"user_id": id(&ben_user), "display_name": null}])
    );
}
