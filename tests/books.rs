//! The catalogue over HTTP: upload, duplicates, access levels, chapters, passages, resources.

use crate::common::{self, TestApp, expect_problem};
use scholia::store::Sql;
use scholia::store::users::Role;
use serde_json::{Value, json};

both_databases!(
    librarian_uploads_and_reader_reads,
    readers_cannot_upload_or_delete,
    duplicate_upload_answers_with_existing_book,
    broken_upload_is_refused_and_stores_nothing,
    access_levels_hide_books,
    passages_paginate_in_reading_order,
    resources_have_types_and_etags,
    delete_removes_everything,
    interrupted_import_leaves_database_as_before,
    a_book_without_text_is_refused_with_its_reason,
    a_duplicate_answers_with_the_existing_books_title,
    unknown_groups_are_refused_by_id,
);

async fn json(response: reqwest::Response) -> Value {
    assert!(
        response.status().is_success(),
        "{} {}",
        response.url(),
        response.status()
    );
    response.json().await.unwrap()
}

async fn librarian_uploads_and_reader_reads(app: TestApp) {
    let (librarian, _) = app.user_with_role("libby", Role::Librarian).await;
    let response = app.upload(&librarian, "alice.epub", &[]).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "imported");
    let id = created["id"].as_str().unwrap();

    let (reader, _) = app.reader("rae").await;
    let list = json(
        reader
            .get(app.url("/api/books?q=wonderland"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id);
    let none = json(
        reader
            .get(app.url("/api/books?q=zzz-no-such"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(none["items"].as_array().unwrap().is_empty());

    let book = json(
        reader
            .get(app.url(&format!("/api/books/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(book["title"], "Alice's Adventures in Wonderland");
    assert!(book["authors"][0].as_str().unwrap().contains("Carroll"));
    let chapters = book["chapters"].as_array().unwrap();
    assert!(chapters.len() > 5);
    assert!(!book["toc"].as_array().unwrap().is_empty());

    // The first chapter with passages opens with its passages marked.
    let index = chapters
        .iter()
        .find(|c| c["passages"].as_i64().unwrap() > 0)
        .unwrap()["index"]
        .as_i64()
        .unwrap();
    let chapter = reader
        .get(app.url(&format!("/api/books/{id}/chapters/{index}")))
        .send()
        .await
        .unwrap();
    assert_eq!(chapter.status(), 200);
    assert!(
        chapter.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = chapter.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    let html = chapter.text().await.unwrap();
    assert!(!html.to_lowercase().contains("<script"));
    let passages = json(
        reader
            .get(app.url(&format!("/api/books/{id}/passages?chapter={index}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    for passage in passages["items"].as_array().unwrap() {
        let marker = format!("data-passage=\"{}\"", passage["id"].as_str().unwrap());
        assert!(html.contains(&marker), "{marker} in chapter {index}");
        assert!(passage["cfi"].as_str().unwrap().starts_with("epubcfi(/6/"));
    }
    let missing = reader
        .get(app.url(&format!("/api/books/{id}/chapters/9999")))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404).await;
    let bad_id = reader
        .get(app.url("/api/books/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert!(matches!(bad_id.status().as_u16(), 400 | 404));
    let unknown = reader
        .get(app.url(&format!("/api/books/{}", uuid::Uuid::new_v4())))
        .send()
        .await
        .unwrap();
    expect_problem(unknown, 404).await;
}

async fn readers_cannot_upload_or_delete(app: TestApp) {
    let id = app.import_fixture("trees.epub").await;
    let (reader, _) = app.reader("rory").await;
    // Refused before the body is read, so the body is kept small enough to be sent whole.
    let tiny = || b"PK\x03\x04".to_vec();
    expect_problem(app.upload_bytes(&reader, "x.epub", tiny(), &[]).await, 403).await;
    let delete = reader
        .delete(app.url(&format!("/api/books/{id}")))
        .send()
        .await
        .unwrap();
    expect_problem(delete, 403).await;
    let anonymous = app.client();
    expect_problem(
        app.upload_bytes(&anonymous, "x.epub", tiny(), &[]).await,
        401,
    )
    .await;
    assert_eq!(app.count("books").await, 1);
}

async fn duplicate_upload_answers_with_existing_book(app: TestApp) {
    let id = app.import_fixture("metamorphosis-epub2.epub").await;
    let (librarian, _) = app.user_with_role("lena", Role::Librarian).await;
    // The same book re-zipped (different compression, different order) is the same book.
    let original = std::fs::read(common::fixture_path("metamorphosis-epub2.epub")).unwrap();
    let rezipped = rezip(&original);
    assert_ne!(original, rezipped);
    let again = app
        .upload_bytes(&librarian, "copy.epub", rezipped, &[])
        .await;
    assert_eq!(again.status(), 200);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["status"], "duplicate");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(app.count("books").await, 1);
}

/// The same entries in reverse order, stored without compression (mimetype first, as EPUB wants).
fn rezip(epub: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(epub)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    names.sort_by_key(|n| (n != "mimetype", std::cmp::Reverse(n.clone())));
    for name in names {
        let mut data = Vec::new();
        archive
            .by_name(&name)
            .unwrap()
            .read_to_end(&mut data)
            .unwrap();
        out.start_file(name, stored).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

async fn broken_upload_is_refused_and_stores_nothing(app: TestApp) {
    app.import_fixture("trees.epub").await;
    let (librarian, _) = app.user_with_role("lee", Role::Librarian).await;
    let before = (app.count("books").await, app.count("passages").await);
    let junk = app
        .upload_bytes(
            &librarian,
            "junk.epub",
            b"PK\x03\x04 not really a zip".to_vec(),
            &[],
        )
        .await;
    let detail = expect_problem(junk, 422).await;
    assert!(detail.contains("zip"), "{detail}");
    let no_file = librarian
        .post(app.url("/api/books"))
        .multipart(reqwest::multipart::Form::new().text("access", "public"))
        .send()
        .await
        .unwrap();
    expect_problem(no_file, 400).await;
    let bad_access = app
        .upload(&librarian, "alice.epub", &[("access", "everyone")])
        .await;
    expect_problem(bad_access, 400).await;
    assert_eq!(
        (app.count("books").await, app.count("passages").await),
        before
    );
}

async fn access_levels_hide_books(app: TestApp) {
    let (librarian, _) = app.user_with_role("lou", Role::Librarian).await;
    let signed_in: Value = app
        .upload(&librarian, "trees.epub", &[("access", "signed_in")])
        .await
        .json()
        .await
        .unwrap();
    let signed_in = signed_in["id"].as_str().unwrap().to_owned();

    let anonymous = app.client();
    let list = json(anonymous.get(app.url("/api/books")).send().await.unwrap()).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let hidden = anonymous
        .get(app.url(&format!("/api/books/{signed_in}")))
        .send()
        .await
        .unwrap();
    expect_problem(hidden, 404).await;
    let passages = anonymous
        .get(app.url(&format!("/api/books/{signed_in}/passages")))
        .send()
        .await
        .unwrap();
    expect_problem(passages, 404).await;

    let (reader, reader_user) = app.reader("rue").await;
    json(
        reader
            .get(app.url(&format!("/api/books/{signed_in}")))
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Restrict it to a group the reader is not in, then add them.
    let group = uuid::Uuid::new_v4().to_string();
    let reader_id = reader_user["id"].as_str().unwrap().to_owned();
    {
        app.state
            .store
            .raw()
            .execute(
                Sql::new("INSERT INTO groups (id, name, created_at) VALUES ($1, 'club', 0)")
                    .bind(&group),
            )
            .await
            .unwrap();
    };
    let patch = librarian
        .patch(app.url(&format!("/api/books/{signed_in}")))
        .json(&serde_json::json!({"access": "groups", "groups": [group]}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 200);
    let outside = reader
        .get(app.url(&format!("/api/books/{signed_in}")))
        .send()
        .await
        .unwrap();
    expect_problem(outside, 404).await;
    {
        app.state.store.raw().execute(Sql::new("INSERT INTO memberships (group_id, user_id, role, joined_at) VALUES ($1, $2, 'member', 0)")
.bind(&group)
.bind(&reader_id)).await
            .unwrap();
    };
    json(
        reader
            .get(app.url(&format!("/api/books/{signed_in}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let list = json(reader.get(app.url("/api/books")).send().await.unwrap()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

async fn passages_paginate_in_reading_order(app: TestApp) {
    let id = app.import_fixture("wasteland.epub").await;
    let client = app.client();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url(&format!("/api/books/{id}/passages?limit=100"));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = json(client.get(url).send().await.unwrap()).await;
        for p in page["items"].as_array().unwrap() {
            seen.push((
                p["chapter"].as_i64().unwrap(),
                p["ordinal"].as_i64().unwrap(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, app.count("passages").await);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "reading order, no repeats"
    );
    let bad = client
        .get(app.url(&format!("/api/books/{id}/passages?cursor=garbage")))
        .send()
        .await
        .unwrap();
    expect_problem(bad, 400).await;
    let bad_limit = client
        .get(app.url(&format!("/api/books/{id}/passages?limit=0")))
        .send()
        .await
        .unwrap();
    expect_problem(bad_limit, 400).await;
}

async fn resources_have_types_and_etags(app: TestApp) {
    let id = app.import_fixture("alice.epub").await;
    let client = app.client();
    let book = json(
        client
            .get(app.url(&format!("/api/books/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let cover = book["cover"]
        .as_str()
        .expect("alice has a cover")
        .to_owned();
    let image = client.get(app.url(&cover)).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert!(
        image.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    let etag = image.headers()["etag"].clone();
    assert!(!image.bytes().await.unwrap().is_empty());
    let again = client
        .get(app.url(&cover))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let missing = client
        .get(app.url(&format!("/api/books/{id}/resources/nope.png")))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404).await;
}

async fn delete_removes_everything(app: TestApp) {
    let id = app.import_fixture("trees.epub").await;
    let (librarian, _) = app.user_with_role("del", Role::Librarian).await;
    let deleted = librarian
        .delete(app.url(&format!("/api/books/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for table in ["books", "chapters", "passages", "resources"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    let gone = librarian
        .get(app.url(&format!("/api/books/{id}")))
        .send()
        .await
        .unwrap();
    expect_problem(gone, 404).await;
}

/// A failure injected after the book, chapters and some passages were written (a passage id
/// repeated at the end) must roll back everything.
async fn interrupted_import_leaves_database_as_before(app: TestApp) {
    app.import_fixture("trees.epub").await;
    let tables = ["books", "chapters", "passages", "resources"];
    let mut before = Vec::new();
    for table in tables {
        before.push(app.count(table).await);
    }
    let bytes = std::fs::read(common::fixture_path("moby-dick.epub")).unwrap();
    let mut parts = Vec::new();
    let summary = scholia::epub::parse_streaming(
        bytes.as_slice(),
        &Default::default(),
        "/api/books/x",
        |part| {
            parts.push(part);
            Ok(())
        },
    )
    .unwrap();
    let first = parts
        .iter()
        .find_map(|part| match part {
            scholia::epub::Part::Chapter(chapter) => chapter.passages.first().cloned(),
            scholia::epub::Part::Resource(_) => None,
        })
        .unwrap();
    let last = parts
        .iter_mut()
        .rev()
        .find_map(|part| match part {
            scholia::epub::Part::Chapter(chapter) if !chapter.passages.is_empty() => Some(chapter),
            _ => None,
        })
        .unwrap();
    last.passages.push(first);
    // As an upload hands them over: each part through the channel, then the summary.
    let (sender, mut receiver) = tokio::sync::mpsc::channel(parts.len());
    for part in parts {
        sender.try_send(part).unwrap();
    }
    drop(sender);
    let placement = scholia::store::books::Placement {
        id: uuid::Uuid::new_v4(),
        access: Default::default(),
        groups: &[],
        edition_of: None,
        imported_by: None,
    };
    let finish = async { Ok::<_, std::convert::Infallible>(summary) };
    let result = app
        .state
        .store
        .insert_book_streaming(placement, &mut receiver, finish)
        .await;
    assert!(result.is_err(), "the repeated passage id fails the import");
    for (table, count) in tables.iter().zip(before) {
        assert_eq!(app.count(table).await, count, "{table} unchanged");
    }
}

/// A one-chapter EPUB titled `title` whose chapter body is `body`.
fn epub_of(title: &str, body: &str) -> Vec<u8> {
    use std::io::Write;
    let container = r#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
    let opf = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title><dc:identifier id="id">urn:{title}</dc:identifier><dc:language>en</dc:language></metadata><manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c"/></spine></package>"#
    );
    let chapter = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head><body>{body}</body></html>"#
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, data) in [
        ("mimetype", "application/epub+zip"),
        ("META-INF/container.xml", container),
        ("content.opf", &opf),
        ("c.xhtml", &chapter),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

async fn a_book_without_text_is_refused_with_its_reason(app: TestApp) {
    let (librarian, _) = app.user_with_role("lyle", Role::Librarian).await;
    for title in ["Blank", "Also blank"] {
        let empty = epub_of(title, "<div><img src=\"x.png\" alt=\"\"/></div>");
        let response = app.upload_bytes(&librarian, "empty.epub", empty, &[]).await;
        let detail = expect_problem(response, 422).await;
        assert!(detail.contains("no readable text"), "{detail}");
    }
    assert_eq!(app.count("books").await, 0);
}

async fn a_duplicate_answers_with_the_existing_books_title(app: TestApp) {
    let (librarian, _) = app.user_with_role("lark", Role::Librarian).await;
    let text = "<p>The same words in two covers.</p>";
    let first = app
        .upload_bytes(&librarian, "a.epub", epub_of("First cover", text), &[])
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app
        .upload_bytes(&librarian, "b.epub", epub_of("Second cover", text), &[])
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["title"], "First cover", "the stored book's own title");
}

async fn unknown_groups_are_refused_by_id(app: TestApp) {
    let (librarian, _) = app.user_with_role("lumi", Role::Librarian).await;
    let ghost = uuid::Uuid::new_v4().to_string();
    let fields = [("access", "groups"), ("groups", ghost.as_str())];
    let upload = app.upload(&librarian, "trees.epub", &fields).await;
    let detail = expect_problem(upload, 422).await;
    assert!(detail.contains(&ghost), "{detail}");
    assert_eq!(app.count("books").await, 0);

    let book = app.import_fixture("trees.epub").await;
    let patch = librarian
        .patch(app.url(&format!("/api/books/{book}")))
        .json(&json!({"access": "groups", "groups": [ghost]}))
        .send()
        .await
        .unwrap();
    let detail = expect_problem(patch, 400).await;
    assert!(detail.contains(&ghost), "{detail}");
    let unchanged: Value = librarian
        .get(app.url(&format!("/api/books/{book}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["access"], "public");
}

/// The spool tests' upload limit: room for [`spooled_book`], not for much more.
const SPOOL_TEST_LIMIT: u64 = 4 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_upload_is_spooled_to_disk_and_removed_sqlite() {
    a_big_upload_is_spooled_to_disk_and_removed(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_upload_is_spooled_to_disk_and_removed_postgres() {
    a_big_upload_is_spooled_to_disk_and_removed(common::Backend::Postgres).await;
}

/// An upload many chapters long arrives in a file of the spool directory while it is sent,
/// imports whole, and leaves the directory empty; so do a refused upload, one over the size
/// limit and one whose client goes away halfway.
async fn a_big_upload_is_spooled_to_disk_and_removed(backend: common::Backend) {
    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().join("uploads");
    let Some(app) = TestApp::start_with(backend, |config| {
        config.spool_dir = spool_dir.clone();
        config.epub_limits.max_file_bytes = SPOOL_TEST_LIMIT;
    })
    .await
    else {
        return;
    };
    let (librarian, _) = app.user_with_role("spooler", Role::Librarian).await;
    let token = send_token(&app, &librarian).await;
    let (epub, image) = spooled_book(24);
    assert!(epub.len() > 3 * 1024 * 1024 && (epub.len() as u64) < SPOOL_TEST_LIMIT);

    // Sent in two halves, the form's other field after the file: the first half is on disk
    // before the second is sent.
    let body = multipart(&[
        ("file", Some("big.epub"), &epub[..]),
        ("access", None, &b"signed_in"[..]),
    ]);
    let mut upload = RawUpload::start(&app, &token, &body).await;
    upload.send(&body[..body.len() / 2]).await;
    let spooled = wait_for(&spool_dir, |files| {
        files.len() == 1 && files[0].1 > 0 && files[0].1 <= epub.len() as u64 / 2
    })
    .await;
    assert!(spooled[0].0.starts_with("scholia-upload-"), "{spooled:?}");
    upload.send(&body[body.len() / 2..]).await;
    let (status, answer) = upload.answer().await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(spool_files(&spool_dir), []);
    let created: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(created["chapters"], 24);
    let id = created["id"].as_str().unwrap();
    let book = json(
        librarian
            .get(app.url(&format!("/api/books/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(book["access"], "signed_in");
    let last = librarian
        .get(app.url(&format!("/api/books/{id}/chapters/23")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        last.contains("Paragraph 23.199 "),
        "the last chapter is whole"
    );
    let served = librarian
        .get(app.url(&format!("/api/books/{id}/resources/plate.jpg")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(served == image, "the image comes back byte for byte");

    let junk = app
        .upload_bytes(&librarian, "junk.epub", vec![7; 1024 * 1024], &[])
        .await;
    expect_problem(junk, 422).await;
    assert_eq!(spool_files(&spool_dir), []);

    let over = vec![0; SPOOL_TEST_LIMIT as usize + 1000];
    let too_big = app
        .upload_bytes(&librarian, "over.epub", over.clone(), &[])
        .await;
    let detail = expect_problem(too_big, 422).await;
    assert!(
        detail.contains(&format!("file is {} bytes", over.len()))
            && detail.contains("--max-file-bytes"),
        "{detail}"
    );
    assert_eq!(spool_files(&spool_dir), []);

    let mut abandoned = RawUpload::start(&app, &token, &body).await;
    abandoned.send(&body[..body.len() / 2]).await;
    wait_for(&spool_dir, |files| files.len() == 1).await;
    drop(abandoned);
    wait_for(&spool_dir, |files| files.is_empty()).await;
    assert_eq!(app.count("books").await, 1);
}

/// An API token of the signed-in `client`'s account.
async fn send_token(app: &TestApp, client: &reqwest::Client) -> String {
    let created = json(
        client
            .post(app.url("/api/me/tokens"))
            .json(&json!({"name": "raw upload"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    created["token"].as_str().unwrap().to_owned()
}

/// An EPUB of `chapters` chapters of 200 numbered paragraphs each, and a 3 MB image of
/// incompressible bytes, which it also returns.
fn spooled_book(chapters: usize) -> (Vec<u8>, Vec<u8>) {
    use std::io::Write;
    let container = r#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
    let manifest: String = (0..chapters)
        .map(|i| {
            format!(r#"<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>"#)
        })
        .collect();
    let spine: String = (0..chapters)
        .map(|i| format!(r#"<itemref idref="c{i}"/>"#))
        .collect();
    let opf = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Spooled</dc:title><dc:identifier id="id">urn:spooled</dc:identifier><dc:language>en</dc:language></metadata><manifest>{manifest}<item id="plate" href="plate.jpg" media-type="image/jpeg"/></manifest><spine>{spine}</spine></package>"#
    );
    let mut seed: u64 = 0x5eed;
    let image: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default();
    let stored = deflated.compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/epub+zip").unwrap();
    for (name, data) in [("META-INF/container.xml", container), ("content.opf", &opf)] {
        zip.start_file(name, deflated).unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    for i in 0..chapters {
        let paragraphs: String = (0..200)
            .map(|p| format!("<p>Paragraph {i}.{p} of the spooled book, long enough to count.</p>"))
            .collect();
        zip.start_file(format!("c{i}.xhtml"), deflated).unwrap();
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c{i}</title></head><body><img src="plate.jpg" alt=""/>{paragraphs}</body></html>"#
        )
        .unwrap();
    }
    zip.start_file("plate.jpg", stored).unwrap();
    zip.write_all(&image).unwrap();
    (zip.finish().unwrap().into_inner(), image)
}

const BOUNDARY: &str = "scholia-spool-test-boundary";

/// A multipart/form-data body of `(name, file name, content)` fields.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in fields {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").bytes(),
        );
        if let Some(file_name) = file_name {
            body.extend(
                format!("; filename=\"{file_name}\"\r\nContent-Type: application/epub+zip").bytes(),
            );
        }
        body.extend(b"\r\n\r\n");
        body.extend(*content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").bytes());
    body
}

/// `POST /api/books` written by hand, so that the test decides when each byte is sent.
struct RawUpload(tokio::net::TcpStream);

impl RawUpload {
    async fn start(app: &TestApp, token: &str, body: &[u8]) -> Self {
        let host = app.base.trim_start_matches("http://");
        let stream = tokio::net::TcpStream::connect(host).await.unwrap();
        let head = format!(
            "POST /api/books HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let mut upload = Self(stream);
        upload.send(head.as_bytes()).await;
        upload
    }

    async fn send(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.0.write_all(bytes).await.unwrap();
        self.0.flush().await.unwrap();
    }

    /// The status and body of the answer.
    async fn answer(mut self) -> (u16, String) {
        use tokio::io::AsyncReadExt;
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(120),
            self.0.read_to_end(&mut answer),
        )
        .await
        .expect("the server answers")
        .unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_owned())
    }
}

/// The files in `dir` (none if it does not exist), by name, with their sizes.
fn spool_files(dir: &std::path::Path) -> Vec<(String, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|entry| {
            let entry = entry.unwrap();
            let size = entry.metadata().map_or(0, |meta| meta.len());
            (entry.file_name().to_string_lossy().into_owned(), size)
        })
        .collect();
    files.sort();
    files
}

/// Waits (up to 30 s) until the files in `dir` pass `check`, and returns them.
async fn wait_for(
    dir: &std::path::Path,
    check: impl Fn(&[(String, u64)]) -> bool,
) -> Vec<(String, u64)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let files = spool_files(dir);
        if check(&files) {
            return files;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the spool directory holds {files:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
