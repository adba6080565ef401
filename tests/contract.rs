//! The HTTP contract, pinned: every endpoint's JSON answer (a success and a typical error) as
//! an insta snapshot under tests/snapshots/, and docs/http-contract.txt checked against the
//! router both ways.
//!
//! Ids are replaced by names for what they are (`[book]`, `[ada]`...), so a snapshot also
//! shows which id a field carries; times, secrets and cursors by placeholders (a null stays
//! null, so a field that may be absent or null keeps its shape). Snapshots run on SQLite: the
//! shape of an answer does not depend on the database.

use crate::common::{Backend, TestApp, note_on, send};
use reqwest::{Client, Method, Response};
use scholia::store::users::Role;
use serde_json::{Value, json};

/// The app with the ids met so far, by the name they are shown under.
struct Contract {
    app: TestApp,
    names: Vec<(String, String)>,
}

impl Contract {
    async fn start() -> Self {
        Self {
            app: TestApp::start(Backend::Sqlite)
                .await
                .expect("SQLite is always available"),
            names: Vec::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// Shows `id` as `[name]` in every snapshot from now on.
    fn name(&mut self, id: &Value, name: &str) -> String {
        let id = id.as_str().expect("an id is a string").to_owned();
        self.names.push((id.clone(), format!("[{name}]")));
        id
    }

    /// Snapshots `response`'s status and JSON body (null when it has none).
    async fn shot(&self, snapshot: &str, response: Response) -> Value {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{snapshot}: {e}: {text}"))
        };
        let mut shown = json!({ "status": status, "body": body });
        self.rename(&mut shown);
        let mut settings = insta::Settings::clone_current();
        settings.set_sort_maps(true);
        for (field, placeholder) in [
            ("created", "[time]"),
            ("updated", "[time]"),
            ("exported", "[time]"),
            ("expires", "[time]"),
            ("joined", "[time]"),
            ("csrf_token", "[csrf]"),
            ("token", "[token]"),
            ("code", "[code]"),
            ("next_cursor", "[cursor]"),
        ] {
            settings.add_dynamic_redaction(&format!(".**.{field}"), move |value, _| {
                if value.is_nil() {
                    value
                } else {
                    placeholder.into()
                }
            });
        }
        settings.bind(|| insta::assert_json_snapshot!(snapshot, shown));
        body
    }
}

impl Contract {
    /// Named ids become their names, in values and in map keys; a UUID also within a longer
    /// string (a URL). UUIDs nobody named (made inside the server) become `[uuid]`.
    fn rename(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.renamed(s),
            Value::Array(items) => items.iter_mut().for_each(|item| self.rename(item)),
            Value::Object(fields) => {
                *fields = std::mem::take(fields)
                    .into_iter()
                    .map(|(key, mut item)| {
                        self.rename(&mut item);
                        (self.renamed(&key), item)
                    })
                    .collect();
            }
            _ => {}
        }
    }

    fn renamed(&self, text: &str) -> String {
        if let Some((_, name)) = self.names.iter().find(|(id, _)| id == text) {
            return name.clone();
        }
        if uuid::Uuid::parse_str(text).is_ok() {
            return "[uuid]".to_owned();
        }
        let mut text = text.to_owned();
        for (id, name) in &self.names {
            if uuid::Uuid::parse_str(id).is_ok() {
                text = text.replace(id.as_str(), name);
            }
        }
        text
    }
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/problem+json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_and_sessions() {
    let mut c = Contract::start().await;
    let token = c
        .app
        .state
        .store
        .issue_setup_token()
        .await
        .unwrap()
        .expect("a new database has no admin yet");
    let client = c.app.client();
    let setup = format!("/api/setup/{token}");
    c.shot(
        "setup_check",
        client.get(c.url(&setup)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "setup_check_unknown",
        client.get(c.url("/api/setup/nope")).send().await.unwrap(),
    )
    .await;
    let admin = c
        .shot(
            "setup_complete",
            client
                .post(c.url(&setup))
                .json(&json!({"username": "root", "password": "a long passphrase", "display_name": "The Admin"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    c.name(&admin["id"], "root");

    let ada = c.app.client();
    let registered = c
        .shot(
            "register",
            ada.post(c.url("/api/auth/register"))
                .json(
                    &json!({"username": "ada", "password": "password-ada", "display_name": "Ada"}),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
    c.name(&registered["id"], "ada");
    c.shot(
        "register_taken",
        ada.post(c.url("/api/auth/register"))
            .json(&json!({"username": "ada", "password": "password-ada", "display_name": "Ada"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "register_malformed",
        ada.post(c.url("/api/auth/register"))
            .json(&json!({"username": "ada"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "logout",
        ada.post(c.url("/api/auth/logout")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "login",
        ada.post(c.url("/api/auth/login"))
            .json(&json!({"username": "ada", "password": "password-ada"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "login_wrong",
        c.app
            .client()
            .post(c.url("/api/auth/login"))
            .json(&json!({"username": "ada", "password": "not her password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "healthz",
        client.get(c.url("/healthz")).send().await.unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account() {
    let mut c = Contract::start().await;
    let (ada, me) = c.app.reader("ada").await;
    c.name(&me["id"], "ada");
    let (ben, ben_user) = c.app.reader("ben").await;
    c.name(&ben_user["id"], "ben");
    let (book, passages) = c.app.book_with_passages("alice.epub").await;
    c.name(&json!(book), "book");
    for p in &passages {
        c.name(&p["id"], "passage");
    }
    // A public note by ben, which ada can mute him for.
    let note = c
        .app
        .post_note(
            &ben,
            &note_on(&book, &passages[3], "A note", json!("public")),
        )
        .await;
    c.name(&note["id"], "note");

    c.shot("me", ada.get(c.url("/api/me")).send().await.unwrap())
        .await;
    c.shot(
        "me_signed_out",
        c.app.client().get(c.url("/api/me")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "me_update",
        ada.patch(c.url("/api/me"))
            .json(&json!({"display_name": "Ada L."}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "me_update_unknown_field",
        ada.patch(c.url("/api/me"))
            .json(&json!({"display_name": "Ada", "nick": "a"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "password_change",
        ada.put(c.url("/api/me/password"))
            .json(&json!({"current_password": "password-ada", "new_password": "a new password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "password_change_wrong",
        ada.put(c.url("/api/me/password"))
            .json(&json!({"current_password": "wrong password", "new_password": "another one"}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let token = c
        .shot(
            "token_create",
            ada.post(c.url("/api/me/tokens"))
                .json(&json!({"name": "script"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let token_id = c.name(&token["id"], "token_id");
    c.shot(
        "token_create_unnamed",
        ada.post(c.url("/api/me/tokens"))
            .json(&json!({"name": " "}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "tokens",
        ada.get(c.url("/api/me/tokens")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "token_delete",
        ada.delete(c.url(&format!("/api/me/tokens/{token_id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "token_delete_unknown",
        ada.delete(c.url(&format!("/api/me/tokens/{token_id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;

    c.shot(
        "preferences",
        ada.get(c.url("/api/me/preferences")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "preferences_put",
        ada.put(c.url("/api/me/preferences"))
            .json(&json!({"margin": "groups", "books": {&book: {"my_reading_first": true}}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "preferences_put_unknown_key",
        ada.put(c.url("/api/me/preferences"))
            .json(&json!({"colour": "red"}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    c.shot(
        "mute",
        ada.post(c.url("/api/me/mutes"))
            .json(&json!({"user_id": ben_user["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "mute_self",
        ada.post(c.url("/api/me/mutes"))
            .json(&json!({"user_id": me["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "mutes",
        ada.get(c.url("/api/me/mutes")).send().await.unwrap(),
    )
    .await;
    let unmute = format!("/api/me/mutes/{}", ben_user["id"].as_str().unwrap());
    c.shot("unmute", ada.delete(c.url(&unmute)).send().await.unwrap())
        .await;
    c.shot(
        "unmute_not_muted",
        ada.delete(c.url(&unmute)).send().await.unwrap(),
    )
    .await;

    let progress = format!("/api/me/progress/{book}");
    c.shot(
        "progress_none",
        ada.get(c.url(&progress)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "progress_put",
        ada.put(c.url(&progress))
            .json(&json!({"chapter": passages[3]["chapter"], "passage": passages[3]["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "progress_put_no_such_chapter",
        ada.put(c.url(&progress))
            .json(&json!({"chapter": 9999}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot("progress", ada.get(c.url(&progress)).send().await.unwrap())
        .await;
    c.shot(
        "progress_list",
        ada.get(c.url("/api/me/progress")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "progress_list_bad_cursor",
        ada.get(c.url("/api/me/progress?cursor=nonsense"))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let own = c
        .app
        .post_note(
            &ada,
            &note_on(&book, &passages[4], "Mine", json!("private")),
        )
        .await;
    c.name(&own["id"], "own_note");
    c.shot(
        "export",
        ada.get(c.url("/api/me/export")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "export_signed_out",
        c.app
            .client()
            .get(c.url("/api/me/export"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "account_delete_wrong_password",
        ada.delete(c.url("/api/me"))
            .json(&json!({"password": "wrong password", "shared_notes": "anonymize"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "account_delete",
        ada.delete(c.url("/api/me"))
            .json(&json!({"password": "a new password", "shared_notes": "anonymize"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users() {
    let mut c = Contract::start().await;
    let (admin, admin_user) = c.app.user_with_role("root", Role::Admin).await;
    c.name(&admin_user["id"], "root");
    let (reader, reader_user) = c.app.reader("ada").await;
    c.name(&reader_user["id"], "ada");
    c.shot(
        "users",
        admin.get(c.url("/api/users")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "users_as_reader",
        reader.get(c.url("/api/users")).send().await.unwrap(),
    )
    .await;
    let ada = format!("/api/users/{}", reader_user["id"].as_str().unwrap());
    c.shot(
        "user_role",
        admin
            .patch(c.url(&ada))
            .json(&json!({"role": "librarian"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let root = format!("/api/users/{}", admin_user["id"].as_str().unwrap());
    c.shot(
        "user_role_last_admin",
        admin
            .patch(c.url(&root))
            .json(&json!({"role": "reader"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books() {
    let mut c = Contract::start().await;
    let (librarian, lib_user) = c.app.user_with_role("lib", Role::Librarian).await;
    c.name(&lib_user["id"], "lib");
    let (ada, ada_user) = c.app.reader("ada").await;
    c.name(&ada_user["id"], "ada");
    let group = c.app.group_with(&ada, &[]).await;
    c.name(&json!(group), "group");

    let uploaded = c
        .shot("upload", c.app.upload(&librarian, "alice.epub", &[]).await)
        .await;
    let book = c.name(&uploaded["id"], "book");
    c.shot(
        "upload_duplicate",
        c.app.upload(&librarian, "alice.epub", &[]).await,
    )
    .await;
    c.shot(
        "upload_refused",
        c.app
            .upload_bytes(&librarian, "junk.epub", b"not a zip".to_vec(), &[])
            .await,
    )
    .await;
    c.shot(
        "upload_as_reader",
        c.app.upload(&ada, "trees.epub", &[]).await,
    )
    .await;
    let other = c
        .app
        .upload(
            &librarian,
            "trees.epub",
            &[("access", "groups"), ("groups", &group)],
        )
        .await;
    let other: Value = other.json().await.unwrap();
    c.name(&other["id"], "group_book");

    c.shot("books", ada.get(c.url("/api/books")).send().await.unwrap())
        .await;
    c.shot(
        "books_bad_limit",
        ada.get(c.url("/api/books?limit=0")).send().await.unwrap(),
    )
    .await;
    let one = format!("/api/books/{book}");
    c.shot("book", ada.get(c.url(&one)).send().await.unwrap())
        .await;
    c.shot(
        "book_as_librarian",
        librarian
            .get(c.url(&other_path(&other)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "book_unknown",
        ada.get(c.url(&format!("/api/books/{}", uuid::Uuid::nil())))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "book_bad_id",
        ada.get(c.url("/api/books/not-a-uuid"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "book_access",
        librarian
            .patch(c.url(&one))
            .json(&json!({"access": "signed_in"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "book_access_groups_without_any",
        librarian
            .patch(c.url(&one))
            .json(&json!({"access": "groups"}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let chapter = ada
        .get(c.url(&format!("{one}/chapters/0")))
        .send()
        .await
        .unwrap();
    assert_eq!(chapter.status(), 200);
    assert_eq!(
        chapter.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    c.shot(
        "chapter_unknown",
        ada.get(c.url(&format!("{one}/chapters/9999")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let passages = c
        .shot(
            "passages",
            ada.get(c.url(&format!("{one}/passages?chapter=1&limit=2")))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let all = send(ada.get(c.url(&format!("{one}/passages?limit=5000")))).await;
    let all = all["items"].as_array().unwrap().clone();
    for p in &all {
        c.name(&p["id"], "passage");
    }
    assert_eq!(passages["items"].as_array().unwrap().len(), 2);
    let cover = uploaded_cover(&c, &ada, &one).await;
    let resource = ada.get(c.url(&cover)).send().await.unwrap();
    assert_eq!(resource.status(), 200);
    assert!(!is_problem(&resource));
    c.shot(
        "resource_unknown",
        ada.get(c.url(&format!("{one}/resources/no/such.png")))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let passage = all
        .iter()
        .find(|p| p["text"].as_str().unwrap().chars().count() > 20)
        .unwrap()
        .clone();
    annotations(&mut c, &ada, &book, &passage).await;

    c.shot(
        "book_delete_as_reader",
        ada.delete(c.url(&one)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "book_delete",
        librarian.delete(c.url(&one)).send().await.unwrap(),
    )
    .await;
}

fn other_path(book: &Value) -> String {
    format!("/api/books/{}", book["id"].as_str().unwrap())
}

/// The cover's URL as the book answers it.
async fn uploaded_cover(c: &Contract, client: &Client, book: &str) -> String {
    let shown = send(client.get(c.url(book))).await;
    shown["cover"]
        .as_str()
        .expect("alice.epub has a cover")
        .to_owned()
}

/// Notes on a book, their moderation and the counts of a margin.
async fn annotations(c: &mut Contract, ada: &Client, book: &str, passage: &Value) {
    let (ben, ben_user) = c.app.reader("ben").await;
    c.name(&ben_user["id"], "ben");
    let (admin, admin_user) = c.app.user_with_role("root", Role::Admin).await;
    c.name(&admin_user["id"], "root");

    let mut request = note_on(book, passage, "A *public* note", json!("public"));
    request["tags"] = json!(["theme"]);
    request["color"] = json!("yellow");
    let note = c
        .shot(
            "annotation_create",
            ada.post(c.url("/api/annotations"))
                .json(&request)
                .send()
                .await
                .unwrap(),
        )
        .await;
    let note = c.name(&note["id"], "note");
    c.shot(
        "annotation_create_bad_range",
        ada.post(c.url("/api/annotations"))
            .json(&json!({"book_id": book, "passage_id": passage["id"], "start": 5, "end": 2, "exact": ""}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let reply = c
        .shot(
            "annotation_reply",
            ben.post(c.url("/api/annotations"))
                .json(&json!({"book_id": book, "reply_to": note, "body": "I agree", "audience": "public"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    c.name(&reply["id"], "reply");
    let private = c
        .app
        .post_note(ada, &note_on(book, passage, "", json!("private")))
        .await;
    c.name(&private["id"], "highlight");

    let one = format!("/api/annotations/{note}");
    c.shot("annotation", ben.get(c.url(&one)).send().await.unwrap())
        .await;
    c.shot(
        "annotation_anonymous_reader",
        c.app.client().get(c.url(&one)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "annotation_unknown",
        ben.get(c.url(&format!("/api/annotations/{}", uuid::Uuid::nil())))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "annotation_edit",
        ada.patch(c.url(&one))
            .json(&json!({"body": "An edited note", "color": null}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "annotation_edit_not_author",
        ben.patch(c.url(&one))
            .json(&json!({"body": "Mine now"}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    search(c, ada, book).await;

    let list = format!("/api/books/{book}/annotations");
    c.shot(
        "annotations",
        ada.get(c.url(&format!("{list}?limit=2")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "annotations_bad_margin",
        ada.get(c.url(&format!("{list}?margin=some")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "annotation_counts",
        ada.get(c.url(&format!("{list}/counts")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // With my reading first, others' notes wait until the reader reveals the passage.
    let (cy, cy_user) = c.app.reader("cy").await;
    c.name(&cy_user["id"], "cy");
    send(
        cy.put(c.url("/api/me/preferences"))
            .json(&json!({"margin": "everyone", "my_reading_first": true})),
    )
    .await;
    c.shot(
        "annotation_counts_waiting",
        cy.get(c.url(&format!("{list}/counts")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let reveal = format!(
        "/api/books/{book}/passages/{}/reveal",
        passage["id"].as_str().unwrap()
    );
    c.shot("reveal", cy.post(c.url(&reveal)).send().await.unwrap())
        .await;
    c.shot(
        "reveal_unknown_passage",
        cy.post(c.url(&format!("/api/books/{book}/passages/nope/reveal")))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let reported = c
        .shot(
            "report",
            ben.post(c.url(&format!("{one}/reports")))
                .json(&json!({"reason": "spoils the ending"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    c.name(&reported["id"], "report");
    c.shot(
        "report_again",
        ben.post(c.url(&format!("{one}/reports")))
            .json(&json!({"reason": "spoils the ending"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "reports",
        admin.get(c.url("/api/reports")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "reports_signed_out",
        c.app
            .client()
            .get(c.url("/api/reports"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "hide_not_moderator",
        ben.post(c.url(&format!("{one}/hide")))
            .json(&json!({"hidden": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "hide",
        admin
            .post(c.url(&format!("{one}/hide")))
            .json(&json!({"hidden": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    c.shot(
        "annotation_delete",
        ada.delete(c.url(&one)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "annotation_delete_again",
        ada.delete(c.url(&one)).send().await.unwrap(),
    )
    .await;
    // The reply outlives the note it answers.
    c.shot(
        "annotations_after_delete",
        ben.get(c.url(&format!(
            "{list}?passage={}",
            passage["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap(),
    )
    .await;
}

async fn search(c: &Contract, ada: &Client, book: &str) {
    let search = format!("/api/books/{book}/search");
    c.shot(
        "search",
        ada.get(c.url(&format!("{search}?q=rabbit&limit=2&annotations_limit=1")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "search_notes",
        ada.get(c.url(&format!("{search}?q=edited")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "search_empty_query",
        ada.get(c.url(&format!("{search}?q=")))
            .send()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups() {
    let mut c = Contract::start().await;
    let (ada, ada_user) = c.app.reader("ada").await;
    c.name(&ada_user["id"], "ada");
    let (ben, ben_user) = c.app.reader("ben").await;
    c.name(&ben_user["id"], "ben");
    let (cy, cy_user) = c.app.reader("cy").await;
    c.name(&cy_user["id"], "cy");
    let (librarian, lib_user) = c.app.user_with_role("lib", Role::Librarian).await;
    c.name(&lib_user["id"], "lib");

    let created = c
        .shot(
            "group_create",
            ada.post(c.url("/api/groups"))
                .json(&json!({"name": "Circle", "description": "We read.", "rules": "Be kind.", "open": false}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let group = c.name(&created["id"], "group");
    c.shot(
        "group_create_unnamed",
        ada.post(c.url("/api/groups"))
            .json(&json!({"description": "no name"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let one = format!("/api/groups/{group}");

    let invite = c
        .shot(
            "invite_create",
            ada.post(c.url(&format!("{one}/invites")))
                .json(&json!({"max_uses": 5}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let code = c.name(&invite["code"], "code");
    c.shot(
        "invite_create_too_long",
        ada.post(c.url(&format!("{one}/invites")))
            .json(&json!({"expires_in_hours": 100000}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "invites",
        ada.get(c.url(&format!("{one}/invites")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "invite_preview",
        c.app
            .client()
            .get(c.url(&format!("/api/groups/invites/{code}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "invite_preview_unknown",
        ben.get(c.url("/api/groups/invites/nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "join_without_rules",
        ben.post(c.url("/api/groups/join"))
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "join",
        ben.post(c.url("/api/groups/join"))
            .json(&json!({"code": code, "accept_rules": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    send(
        cy.post(c.url("/api/groups/join"))
            .json(&json!({"code": code, "accept_rules": true})),
    )
    .await;

    c.shot(
        "group_update",
        ada.patch(c.url(&one))
            .json(&json!({"rules": "Quote before you judge."}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "group_update_not_owner",
        ben.patch(c.url(&one))
            .json(&json!({"name": "Mine"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let shown = c
        .shot(
            "group_as_member",
            ben.get(c.url(&one)).send().await.unwrap(),
        )
        .await;
    let notice = c.name(&shown["notices"][0]["id"], "notice");
    c.shot(
        "group_unknown",
        ben.get(c.url(&format!("/api/groups/{}", uuid::Uuid::nil())))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "notice_dismiss",
        ben.post(c.url(&format!("{one}/notices/{notice}/dismiss")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "notice_dismiss_unknown",
        librarian
            .post(c.url(&format!("{one}/notices/{notice}/dismiss")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "groups",
        ben.get(c.url("/api/groups")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "groups_all",
        librarian
            .get(c.url("/api/groups?all=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "groups_all_as_reader",
        ben.get(c.url("/api/groups?all=true")).send().await.unwrap(),
    )
    .await;
    c.shot(
        "members",
        ada.get(c.url(&format!("{one}/members")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ben_member = format!("{one}/members/{}", ben_user["id"].as_str().unwrap());
    c.shot(
        "member_role",
        ada.patch(c.url(&ben_member))
            .json(&json!({"role": "facilitator"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "member_role_owner",
        ada.patch(c.url(&ben_member))
            .json(&json!({"role": "owner"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "invite_revoke",
        ada.delete(c.url(&format!("{one}/invites/{code}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "invite_revoke_unknown",
        ada.delete(c.url(&format!("{one}/invites/nope")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let cy_member = format!("{one}/members/{}", cy_user["id"].as_str().unwrap());
    c.shot(
        "member_remove",
        ada.delete(c.url(&cy_member)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "member_remove_again",
        ada.delete(c.url(&cy_member)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "transfer",
        ada.post(c.url(&format!("{one}/transfer")))
            .json(&json!({"user_id": ben_user["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "transfer_not_owner",
        ada.post(c.url(&format!("{one}/transfer")))
            .json(&json!({"user_id": ada_user["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "leave",
        ada.post(c.url(&format!("{one}/leave")))
            .json(&json!({"notes": "keep"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "leave_not_member",
        ada.post(c.url(&format!("{one}/leave")))
            .json(&json!({"notes": "keep"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // An open group is joined by its id.
    let open = send(
        ben.post(c.url("/api/groups"))
            .json(&json!({"name": "Open", "open": true})),
    )
    .await;
    c.name(&open["id"], "open_group");
    c.shot(
        "join_open",
        cy.post(c.url("/api/groups/join"))
            .json(&json!({"group_id": open["id"], "accept_rules": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    c.shot(
        "group_delete_not_owner",
        cy.delete(c.url(&one)).send().await.unwrap(),
    )
    .await;
    c.shot(
        "group_delete",
        ben.delete(c.url(&one)).send().await.unwrap(),
    )
    .await;
}

/// One line of docs/http-contract.txt: `METHOD /path`, and why not when it is not built.
struct ContractPath {
    method: Method,
    path: String,
    not_built: Option<String>,
}

fn contract_paths() -> Vec<ContractPath> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/http-contract.txt");
    let text = std::fs::read_to_string(file).expect("docs/http-contract.txt");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (route, not_built) = match line.split_once("not-built:") {
                Some((route, reason)) => (route, Some(reason.trim().to_owned())),
                None => (line, None),
            };
            let mut words = route.split_whitespace();
            let (Some(method), Some(path), None) = (words.next(), words.next(), words.next())
            else {
                panic!("{line:?} is not `METHOD /path [not-built: reason]`");
            };
            assert!(
                not_built.as_ref().is_none_or(|reason| !reason.is_empty()),
                "{line:?}: say why it is not built"
            );
            ContractPath {
                method: method.parse().expect("an HTTP method"),
                path: path.to_owned(),
                not_built,
            }
        })
        .collect()
}

/// The path with each `{parameter}` filled in (an id that names nothing).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{index}" => "0".to_owned(),
            s if s.starts_with('{') => uuid::Uuid::nil().to_string(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What the app answers `method path`, as (status, problem detail if any).
async fn answer(app: &TestApp, method: &Method, path: &str) -> (u16, Option<String>) {
    let response = app
        .client()
        .request(method.clone(), app.url(path))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let problem = is_problem(&response);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let detail = problem
        .then(|| body["detail"].as_str().map(str::to_owned))
        .flatten();
    (status, detail)
}

/// Each path of the contract file that is built is routed, and each one marked not built is
/// not: a request to it gets the router's fallback (or 405 when only other methods are).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_file_matches_the_router() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    // The fallbacks' answers, learnt from paths nobody routes: under /api and elsewhere.
    let api_fallback = answer(&app, &Method::GET, "/api/no/such/route").await;
    let page_fallback = answer(&app, &Method::GET, "/no/such/page").await;
    assert_eq!(api_fallback.0, 404);
    assert_eq!(page_fallback.0, 404);
    assert!(api_fallback.1.is_some() && page_fallback.1.is_some());
    let unrouted = |answer: &(u16, Option<String>)| {
        answer.0 == 405 || *answer == api_fallback || *answer == page_fallback
    };

    let paths = contract_paths();
    assert!(paths.len() > 30, "the whole table is listed");
    for entry in &paths {
        let got = answer(&app, &entry.method, &concrete(&entry.path)).await;
        match &entry.not_built {
            None => assert!(
                !unrouted(&got),
                "{} {} is listed as built but is not routed: {got:?}",
                entry.method,
                entry.path
            ),
            Some(reason) => assert!(
                unrouted(&got),
                "{} {} is marked not built ({reason}) but is routed: {got:?}",
                entry.method,
                entry.path
            ),
        }
    }
}
