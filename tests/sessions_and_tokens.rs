//! Accounts, sessions, tokens, CSRF and error bodies, over HTTP on both databases.

use crate::common::{self, TestApp, expect_problem};
use serde_json::{Value, json};

both_databases!(
    register_login_me_logout,
    token_works_and_can_be_revoked,
    logged_out_session_cookie_no_longer_works,
    cookie_writes_need_same_origin_or_csrf_token,
    a_session_cookie_in_any_spelling_needs_the_csrf_check,
    an_origin_with_another_scheme_is_cross_site,
    wrong_password_and_unknown_user_answer_alike,
    failed_logins_are_rate_limited,
    bad_bodies_get_problem_details,
    duplicate_username_is_a_conflict,
    health_and_web_page_with_security_headers,
);

async fn register_login_me_logout(app: TestApp) {
    let client = app.client();
    let registered = app.register(&client, "Ada").await;
    assert_eq!(
        registered["username"], "ada",
        "usernames are case-insensitive"
    );
    assert_eq!(registered["role"], "reader");

    client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    let me = client.get(app.url("/api/me")).send().await.unwrap();
    expect_problem(me, 401).await;

    let login = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "ada", "password": "password-Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let me: Value = client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "ada");
    assert_eq!(me["display_name"], "Ada the reader");
    assert_eq!(me["id"], registered["id"]);

    let logout = client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    expect_problem(client.get(app.url("/api/me")).send().await.unwrap(), 401).await;
}

async fn token_works_and_can_be_revoked(app: TestApp) {
    let (client, user) = app.reader("tess").await;
    let created: Value = client
        .post(app.url("/api/me/tokens"))
        .json(&json!({"name": "script"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap();

    // A client with no cookies at all, only the token.
    let script = reqwest::Client::new();
    let me: Value = script
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user["id"]);
    // Bearer writes need no CSRF token.
    let second = script
        .post(app.url("/api/me/tokens"))
        .bearer_auth(token)
        .json(&json!({"name": "second"}))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 201);

    let listed: Value = client
        .get(app.url("/api/me/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert!(
        listed["items"][0].get("token").is_none(),
        "secrets are shown once"
    );

    let id = created["id"].as_str().unwrap();
    let revoked = client
        .delete(app.url(&format!("/api/me/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = script
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    expect_problem(after, 401).await;
    let bogus = script
        .get(app.url("/api/me"))
        .bearer_auth("sch_nonsense")
        .send()
        .await
        .unwrap();
    expect_problem(bogus, 401).await;
}

async fn logged_out_session_cookie_no_longer_works(app: TestApp) {
    let client = app.client();
    app.register(&client, "lou").await;
    let login = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "lou", "password": "password-lou"}))
        .send()
        .await
        .unwrap();
    let set_cookie = login.headers().get("set-cookie").unwrap().to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let replay = reqwest::Client::new();
    let before = replay
        .get(app.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200);
    client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    let after = replay
        .get(app.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    expect_problem(after, 401).await;
}

async fn cookie_writes_need_same_origin_or_csrf_token(app: TestApp) {
    let client = app.bare_client();
    // Registering carries no session yet, so a script may do it without Origin.
    let user = app.register(&client, "cass").await;
    let csrf = user["csrf_token"].as_str().unwrap().to_owned();
    let new_token = || json!({"name": "t"});

    let no_origin = client
        .post(app.url("/api/me/tokens"))
        .json(&new_token())
        .send()
        .await
        .unwrap();
    expect_problem(no_origin, 403).await;
    let foreign = client
        .post(app.url("/api/me/tokens"))
        .header("origin", "https://evil.example")
        .json(&new_token())
        .send()
        .await
        .unwrap();
    expect_problem(foreign, 403).await;
    let foreign_with_token = client
        .post(app.url("/api/me/tokens"))
        .header("origin", "https://evil.example")
        .header("x-csrf-token", &csrf)
        .json(&new_token())
        .send()
        .await
        .unwrap();
    expect_problem(foreign_with_token, 403).await;
    let wrong_token = client
        .post(app.url("/api/me/tokens"))
        .header("x-csrf-token", "guess")
        .json(&new_token())
        .send()
        .await
        .unwrap();
    expect_problem(wrong_token, 403).await;
    let cross_logout = client
        .post(app.url("/api/auth/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    expect_problem(cross_logout, 403).await;

    let with_token = client
        .post(app.url("/api/me/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&new_token())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 201);
    let same_origin = client
        .post(app.url("/api/me/tokens"))
        .header("origin", &app.base)
        .json(&new_token())
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 201);
    let me: Value = client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["csrf_token"],
        csrf.as_str(),
        "/api/me hands out the session's token"
    );
}

/// The session cookie's `name=value` as the server set it at registration.
async fn session_cookie(app: &TestApp, username: &str) -> (String, String) {
    let response = reqwest::Client::new()
        .post(app.url("/api/auth/register"))
        .json(&json!({
            "username": username, "password": "password-x", "display_name": username,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let pair = cookie.split(';').next().unwrap();
    let (name, value) = pair.split_once('=').unwrap();
    (name.to_owned(), value.to_owned())
}

async fn a_session_cookie_in_any_spelling_needs_the_csrf_check(app: TestApp) {
    let (name, value) = session_cookie(&app, "spell").await;
    assert_eq!(name, "scholia_session");
    let me = reqwest::Client::new()
        .get(app.url("/api/me"))
        .header("cookie", format!("scholia%5Fsession={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "the session layer reads the encoded name");
    for cookie in [
        format!("scholia%5Fsession={value}"),
        format!("scholia_session ={value}"),
        format!("other=1; scholia%5fsession={value}"),
    ] {
        let write = reqwest::Client::new()
            .post(app.url("/api/me/tokens"))
            .header("cookie", &cookie)
            .json(&json!({"name": "t"}))
            .send()
            .await
            .unwrap();
        expect_problem(write, 403).await;
    }
    assert_eq!(app.count("api_tokens").await, 0);
}

async fn an_origin_with_another_scheme_is_cross_site(app: TestApp) {
    let client = app.bare_client();
    app.register(&client, "scheme").await;
    let https_origin = app.base.replacen("http://", "https://", 1);
    let write = client
        .post(app.url("/api/me/tokens"))
        .header("origin", https_origin)
        .json(&json!({"name": "t"}))
        .send()
        .await
        .unwrap();
    expect_problem(write, 403).await;
}

async fn wrong_password_and_unknown_user_answer_alike(app: TestApp) {
    app.reader("wendy").await;
    let wrong = app.login("wendy", "not her password").await;
    let unknown = app.login("nobody", "not her password").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), wrong.status());
    assert!(wrong.headers().get("set-cookie").is_none());
    let wrong_body: Value = wrong.json().await.unwrap();
    let unknown_body: Value = unknown.json().await.unwrap();
    assert_eq!(wrong_body, unknown_body);
}

async fn failed_logins_are_rate_limited(app: TestApp) {
    app.reader("rita").await;
    for _ in 0..10 {
        assert_eq!(app.login("rita", "wrong password").await.status(), 401);
    }
    let blocked = app.login("rita", "password-rita").await;
    assert!(blocked.headers().contains_key("retry-after"));
    expect_problem(blocked, 429).await;
    // Another account from the same address still gets its own budget.
    app.reader("sam").await;
    assert_eq!(app.login("sam", "password-sam").await.status(), 200);
}

async fn bad_bodies_get_problem_details(app: TestApp) {
    let client = app.client();
    let url = app.url("/api/auth/register");
    let malformed = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    expect_problem(malformed, 400).await;
    let mistyped = client
        .post(&url)
        .json(&json!({"username": 5}))
        .send()
        .await
        .unwrap();
    expect_problem(mistyped, 400).await;
    let bad_utf8 = client
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'])
        .send()
        .await
        .unwrap();
    expect_problem(bad_utf8, 400).await;
    let (status, head) = declare_oversize_body(&app, "/api/auth/register", 2 * 1024 * 1024).await;
    assert_eq!(status, 413, "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let not_json = client.post(&url).body("username=x").send().await.unwrap();
    expect_problem(not_json, 415).await;
    let short = client
        .post(&url)
        .json(&json!({"username": "x", "password": "password", "display_name": "X"}))
        .send()
        .await
        .unwrap();
    let detail = expect_problem(short, 400).await;
    assert!(detail.contains("username"), "{detail}");
    expect_problem(
        client
            .get(app.url("/api/nothing-here"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    expect_problem(
        client.get(app.url("/api/auth/login")).send().await.unwrap(),
        405,
    )
    .await;
}

/// Sends only the head of a request that declares a `length`-byte JSON body and reads the
/// answer: a server must refuse an oversize body from its declared length without reading it
/// (a client streaming the body could otherwise see the connection closed under it).
async fn declare_oversize_body(app: &TestApp, path: &str, length: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        app.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server answers without waiting for the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

async fn duplicate_username_is_a_conflict(app: TestApp) {
    app.reader("dana").await;
    let again = app
        .client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "DANA", "password": "password-x", "display_name": "D"}))
        .send()
        .await
        .unwrap();
    expect_problem(again, 409).await;
}

async fn health_and_web_page_with_security_headers(app: TestApp) {
    let client = app.client();
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("object-src 'none'"), "{csp}");
    // Scripts only from the reader's own files: not 'self', which would admit a book's files
    // under /api (a script an EPUB carried, say).
    let scripts: Vec<&str> = csp
        .split(';')
        .find_map(|d| d.trim().strip_prefix("script-src "))
        .expect("a script-src")
        .split_whitespace()
        .collect();
    let origin = app.base.as_str();
    let covered = |path: &str| {
        scripts.iter().any(|source| {
            let source = source.strip_prefix(origin).unwrap_or("");
            !source.is_empty()
                && (source == path || (source.ends_with('/') && path.starts_with(source)))
        })
    };
    for source in scripts.iter().filter(|s| **s != "'none'") {
        assert!(
            source.starts_with(&format!("{origin}/")),
            "{source} in {csp}"
        );
        assert!(*source != "'self'" && !source.contains('*'), "{csp}");
    }
    for path in ["/api/books/x/resources/evil.js", "/api/me", "/evil.js"] {
        assert!(!covered(path), "{path} may run: {csp}");
    }
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("referrer-policy"));
    assert!(headers.contains_key("x-request-id"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Scholia"));
    // Every script the page loads is one the policy admits.
    for tag in html.split("<script").skip(1) {
        let src = tag
            .split("src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next());
        if let Some(src) = src {
            assert!(covered(src), "{src} is refused by {csp}");
        }
    }
}

#[tokio::test]
async fn registration_can_be_turned_off() {
    let app = TestApp::start_with(common::Backend::Sqlite, |c| c.allow_registration = false)
        .await
        .unwrap();
    let refused = app
        .client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "eve", "password": "password-eve", "display_name": "Eve"}))
        .send()
        .await
        .unwrap();
    expect_problem(refused, 403).await;
}
