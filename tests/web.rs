//! The reader's pages: which paths get the app, and with which methods.

use crate::common::{TestApp, expect_problem};
use reqwest::Method;

both_databases!(only_the_readers_pages_get_the_app);

async fn only_the_readers_pages_get_the_app(app: TestApp) {
    let client = app.client();
    for page in [
        "/",
        "/read/0193a0a0-0000-7000-8000-000000000000/1",
        "/join/abc",
        "/setup/token",
        "/upload",
        "/account",
        "/groups",
        "/groups/0193a0a0-0000-7000-8000-000000000000",
    ] {
        for method in [Method::GET, Method::HEAD] {
            let response = client
                .request(method.clone(), app.url(page))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{method} {page}");
            let content_type = response.headers()["content-type"].to_str().unwrap();
            assert!(
                content_type.starts_with("text/html"),
                "{page}: {content_type}"
            );
        }
    }
    let css = client.get(app.url("/style.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css");

    for (method, page) in [
        (Method::POST, "/"),
        (Method::TRACE, "/"),
        (Method::PUT, "/read/x/1"),
        (Method::DELETE, "/style.css"),
    ] {
        let response = client
            .request(method.clone(), app.url(page))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "GET, HEAD", "{method} {page}");
        expect_problem(response, 405).await;
    }
    for missing in [
        "/opds",
        "/nothing",
        "/read",
        "/groups/",
        "/a/b/c",
        "/wp-login.php",
    ] {
        let response = client.get(app.url(missing)).send().await.unwrap();
        expect_problem(response, 404).await;
    }
}
