//! Brakes on abuse, over HTTP on both databases: bounded password hashing, registrations per
//! address, login attempts per account and address, and slow or silent connections.

use std::time::Duration;

use crate::common::{self, TestApp, expect_problem};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

both_databases!(
    concurrent_registrations_hash_at_most_one_per_core,
    registrations_are_limited_per_address,
    overlong_passwords_are_refused_before_hashing,
    concurrent_wrong_passwords_are_checked_at_most_the_limit,
    failures_on_one_account_do_not_lock_another,
    forwarded_addresses_count_only_from_a_trusted_proxy,
    login_counts_are_shared_by_servers_on_one_database,
);

fn register_body(username: &str) -> Value {
    json!({"username": username, "password": format!("password-{username}"), "display_name": username})
}

async fn concurrent_registrations_hash_at_most_one_per_core(app: TestApp) {
    let requests = (0..50).map(|i| {
        let client = app.client();
        let url = app.url("/api/auth/register");
        async move {
            let body = register_body(&format!("crowd{i}"));
            client.post(url).json(&body).send().await.unwrap().status()
        }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let peak = app.state.passwords.peak();
    assert!(
        (1..=cores).contains(&peak),
        "{peak} hashes ran at once on {cores} cores"
    );
}

async fn registrations_are_limited_per_address(app: TestApp) {
    let app = TestApp::start_with(backend_of(&app), |c| c.registrations_per_hour = 3)
        .await
        .unwrap();
    for name in ["reg1", "reg2", "reg3"] {
        let response = app
            .client()
            .post(app.url("/api/auth/register"))
            .json(&register_body(name))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let refused = app
        .client()
        .post(app.url("/api/auth/register"))
        .json(&register_body("reg4"))
        .send()
        .await
        .unwrap();
    assert!(refused.headers().contains_key("retry-after"));
    let detail = expect_problem(refused, 429).await;
    assert!(detail.contains("registered"), "{detail}");
    assert_eq!(app.count("users").await, 3);
}

fn backend_of(app: &TestApp) -> common::Backend {
    if app.database_url.starts_with("sqlite") {
        common::Backend::Sqlite
    } else {
        common::Backend::Postgres
    }
}

async fn overlong_passwords_are_refused_before_hashing(app: TestApp) {
    // 513 characters, 1026 bytes.
    let long = "é".repeat(513);
    let register = app
        .client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "longpw", "password": long, "display_name": "L"}))
        .send()
        .await
        .unwrap();
    let detail = expect_problem(register, 400).await;
    assert!(detail.contains("1024 bytes"), "{detail}");
    let login = login_from(&app, &app.base, "longpw", &"x".repeat(1025), None).await;
    expect_problem(login, 400).await;
    assert_eq!(app.state.passwords.peak(), 0, "nothing was hashed");
}

async fn login_from(
    app: &TestApp,
    base: &str,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    // No Origin: `base` may be another server than `app`'s.
    let mut request = app
        .bare_client()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": password}));
    if let Some(addr) = forwarded_for {
        request = request.header("x-forwarded-for", addr);
    }
    request.send().await.unwrap()
}

async fn concurrent_wrong_passwords_are_checked_at_most_the_limit(app: TestApp) {
    app.reader("target").await;
    let attempts = (0..40).map(|_| login_from(&app, &app.base, "target", "wrong password", None));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 10, "{checked} of 40 were checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
}

async fn failures_on_one_account_do_not_lock_another(app: TestApp) {
    // 50 failures from one address, spread over five accounts (ten each, within budget).
    for account in 0..5 {
        for _ in 0..10 {
            let response = login_from(
                &app,
                &app.base,
                &format!("acct{account}"),
                "wrong pass",
                None,
            )
            .await;
            assert_eq!(response.status(), 401);
        }
    }
    app.reader("bystander").await;
    let response = login_from(&app, &app.base, "bystander", "password-bystander", None).await;
    assert_eq!(response.status(), 200, "another account signs in");
}

async fn forwarded_addresses_count_only_from_a_trusted_proxy(app: TestApp) {
    // Untrusted: a forged X-Forwarded-For buys no fresh budget.
    app.reader("fran").await;
    for i in 0..10 {
        let forged = format!("10.0.0.{i}");
        let response = login_from(&app, &app.base, "fran", "wrong pass", Some(&forged)).await;
        assert_eq!(response.status(), 401);
    }
    let forged = login_from(&app, &app.base, "fran", "wrong pass", Some("10.0.1.1")).await;
    expect_problem(forged, 429).await;

    // Trusted: each client behind the proxy has its own budget.
    let proxied = TestApp::start_with(backend_of(&app), |c| {
        c.trusted_proxies = vec![[127, 0, 0, 1].into()];
    })
    .await
    .unwrap();
    proxied.reader("gail").await;
    for _ in 0..10 {
        let response = login_from(&proxied, &proxied.base, "gail", "wrong", Some("10.0.0.1")).await;
        assert_eq!(response.status(), 401);
    }
    let guesser = login_from(&proxied, &proxied.base, "gail", "wrong", Some("10.0.0.1")).await;
    expect_problem(guesser, 429).await;
    let owner = login_from(
        &proxied,
        &proxied.base,
        "gail",
        "password-gail",
        Some("10.0.0.2"),
    )
    .await;
    assert_eq!(
        owner.status(),
        200,
        "the account's owner elsewhere signs in"
    );
}

async fn login_counts_are_shared_by_servers_on_one_database(app: TestApp) {
    app.reader("hana").await;
    let second = app.second_server().await;
    for i in 0..10 {
        let base = if i % 2 == 0 { &app.base } else { &second };
        let response = login_from(&app, base, "hana", "wrong pass", None).await;
        assert_eq!(response.status(), 401);
    }
    for base in [&app.base, &second] {
        let response = login_from(&app, base, "hana", "wrong pass", None).await;
        expect_problem(response, 429).await;
    }
}

mod slow_clients {
    use super::*;
    use common::Backend;

    async fn app_with(adjust: impl FnOnce(&mut scholia::config::Config)) -> TestApp {
        TestApp::start_with(Backend::Sqlite, adjust).await.unwrap()
    }

    fn addr(app: &TestApp) -> String {
        app.base.trim_start_matches("http://").to_owned()
    }

    /// Reads until the server closes the connection, returning what it sent; fails the test
    /// if it is still open after `within`.
    async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
        let mut received = Vec::new();
        let read = tokio::time::timeout(within, async {
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        assert!(
            read.is_ok(),
            "the connection is still open after {within:?}"
        );
        String::from_utf8_lossy(&received).into_owned()
    }

    #[tokio::test]
    async fn a_client_stalling_in_its_headers_is_closed() {
        let app = app_with(|c| c.header_read_timeout = Duration::from_millis(500)).await;
        let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        read_until_closed(&mut stream, Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed() {
        let app = app_with(|c| c.idle_timeout = Duration::from_millis(500)).await;
        let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn a_request_being_handled_is_not_idle() {
        let app = app_with(|c| c.idle_timeout = Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        // Importing this book takes far longer than two idle periods, with nothing sent.
        let id = app.import_fixture("linear-algebra.epub").await;
        assert!(started.elapsed() > Duration::from_millis(400), "{id}");
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_is_answered_and_closed() {
        let app = app_with(|c| c.body_read_timeout = Duration::from_millis(500)).await;
        let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
        stream
            .write_all(
                b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"username\"",
            )
            .await
            .unwrap();
        let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    }
}
