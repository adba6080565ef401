//! Books stored by an earlier importer are sanitized again at start-up, keeping their passages
//! and the notes on them.

use crate::tree;

use scholia::app::AppState;
use scholia::config::Config;
use scholia::store::Sql;
use scholia::store::users::Role;
use serde_json::json;

use crate::common::{TestApp, send};

/// The hefty-water fixture's ruby passage, as the importer before the tree sanitizer stored it
/// (ruby readings in its text).
const OLD_TEXT: &str = "2H2(hydrogen) + O2(oxygen) ⟶(hefty) 2H2O(water)";
const NEW_TEXT: &str = "2H2 + O2 ⟶ 2H2O";
/// What the old sanitizer let through: live once a browser parses it.
const MUTATION: &str = r#"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>"#;

async fn an_old_book_is_sanitized_again_keeping_its_notes(app: TestApp) {
    let book = app.import_fixture("hefty-water.epub").await;
    let (reader, _) = app.user_with_role("reader", Role::Reader).await;
    let passages =
        send(reader.get(app.url(&format!("/api/books/{book}/passages?chapter=0&limit=100")))).await;
    let passage = passages["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["text"] == NEW_TEXT)
        .expect("the ruby passage")
        .clone();
    let id = passage["id"].as_str().unwrap();

    // The database as the earlier importer left it.
    app.execute(
        "UPDATE books SET content_version = 1 WHERE id = $1",
        &[&book],
    )
    .await;
    app.execute(
        "UPDATE passages SET text = $3 WHERE book_id = $1 AND id = $2",
        &[&book, id, OLD_TEXT],
    )
    .await;
    app.execute(
        "UPDATE chapters SET html = REPLACE(html, '</div></div>', $2) WHERE book_id = $1 AND idx = 0",
        &[&book, &format!("{MUTATION}</div></div>")],
    )
    .await;
    app.state
        .store
        .raw()
        .execute(
            Sql::new(
                "INSERT INTO resources (book_id, path, media_type, sha256, data)
         VALUES ($1, 'EPUB/evil.js', 'application/javascript', 'x', $2)",
            )
            .bind(&book)
            .bind(b"alert(1)".to_vec()),
        )
        .await
        .map(|_| ())
        .unwrap();
    // A note written then, on "2H2O(water)" (code points 37 to 48).
    let old: Vec<char> = OLD_TEXT.chars().collect();
    let at = OLD_TEXT
        .find("2H2O")
        .map(|b| OLD_TEXT[..b].chars().count())
        .unwrap();
    let note = send(reader.post(app.url("/api/annotations")).json(&json!({
        "book_id": book, "passage_id": id, "start": at, "end": old.len(),
        "exact": old[at..].iter().collect::<String>(), "body": "water", "audience": "private",
    })))
    .await;

    // The next start brings it up to date.
    AppState::open(Config::new(&app.database_url))
        .await
        .unwrap();

    let passage =
        send(reader.get(app.url(&format!("/api/books/{book}/passages?chapter=0&limit=100")))).await;
    let texts: Vec<&str> = passage["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&NEW_TEXT), "{texts:?}");
    let note = send(reader.get(app.url(&format!(
        "/api/annotations/{}",
        note["id"].as_str().unwrap()
    ))))
    .await;
    let new: Vec<char> = NEW_TEXT.chars().collect();
    let (start, end) = (
        note["start"].as_u64().unwrap() as usize,
        note["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(note["exact"], "2H2O", "{note}");
    assert_eq!(new[start..end].iter().collect::<String>(), "2H2O", "{note}");

    let html = reader
        .get(app.url(&format!("/api/books/{book}/chapters/0")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = html.as_str();
    let parsed = tree::parse(html);
    assert_eq!(tree::serialize(&parsed), html);
    tree::assert_inert("refreshed chapter", &parsed, &format!("/api/books/{book}"));
    let marked: Vec<(String, String)> = tree::passages(&parsed);
    assert!(
        marked
            .iter()
            .any(|(pid, text)| pid == id && text == NEW_TEXT),
        "{marked:?}"
    );

    let script = reader
        .get(app.url(&format!("/api/books/{book}/resources/EPUB/evil.js")))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 404);
}

both_databases!(an_old_book_is_sanitized_again_keeping_its_notes);
