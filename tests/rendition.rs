//! How a book asks to be laid out reaches the reader: fixed-layout pages with their size, and
//! the direction pages turn.

use crate::common::{TestApp, send};

async fn fixed_layout_and_page_direction_are_in_the_book(app: TestApp) {
    let fixed = app.import_fixture("sous-le-vent.epub").await;
    let rtl = app.import_fixture("regime-anticancer-arabic.epub").await;
    let reflowable = app.import_fixture("alice.epub").await;
    let (reader, _) = app.reader("reader").await;

    let book = send(reader.get(app.url(&format!("/api/books/{fixed}")))).await;
    assert_eq!(book["rendition"]["fixed_layout"], true, "{book}");
    let pages: Vec<_> = book["chapters"].as_array().unwrap().iter().collect();
    assert!(
        pages
            .iter()
            .all(|c| c["viewport"]["width"] == 1474 && c["viewport"]["height"] == 2324),
        "{pages:?}"
    );

    let book = send(reader.get(app.url(&format!("/api/books/{rtl}")))).await;
    assert_eq!(
        book["rendition"]["page_progression_direction"], "rtl",
        "{book}"
    );
    assert_eq!(book["rendition"]["fixed_layout"], false);

    let book = send(reader.get(app.url(&format!("/api/books/{reflowable}")))).await;
    assert_eq!(book["rendition"]["fixed_layout"], false, "{book}");
    assert!(book["rendition"]["page_progression_direction"].is_null());
    assert!(book["chapters"][0]["viewport"].is_null());
}

both_databases!(fixed_layout_and_page_direction_are_in_the_book);
