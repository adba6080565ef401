//! A real Scholia server on a fresh temporary database, for tests over HTTP.
//!
//! Every test runs on SQLite and on PostgreSQL (see [`both_databases!`]). PostgreSQL is
//! found at `SCHOLIA_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`);
//! each test gets a database of its own. Unreachable PostgreSQL fails the test: a green run
//! has run both. `SCHOLIA_SKIP_POSTGRES=1` leaves PostgreSQL out, each test saying so on
//! stderr; `CI=true` refuses it.

use scholia::store::Sql;
use std::io::Write as _;

use reqwest::header::{HeaderMap, HeaderValue};
use scholia::app::AppState;
use scholia::config::Config;
use scholia::store::users::{NewUser, Role};
use serde_json::{Value, json};
use sqlx::Connection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub database_url: String,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
}

pub fn postgres_admin_url() -> String {
    std::env::var("SCHOLIA_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether this run leaves PostgreSQL out (`SCHOLIA_SKIP_POSTGRES=1`), which the calling
/// test then says on stderr, by its name, so that a skip never passes for a run. CI must run
/// PostgreSQL, so `CI=true` refuses the opt-out.
pub fn skipping_postgres() -> bool {
    if std::env::var("SCHOLIA_SKIP_POSTGRES").as_deref() != Ok("1") {
        return false;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true requires the PostgreSQL tests: unset SCHOLIA_SKIP_POSTGRES"
    );
    // The test harness names each test's thread after the test, and captures `eprintln!`
    // of passing tests: the line goes to the process's stderr itself.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a PostgreSQL test");
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED (SCHOLIA_SKIP_POSTGRES=1): {test}"
    );
    true
}

/// A connection to PostgreSQL's admin database, where test databases are made; unreachable
/// PostgreSQL fails the test.
pub async fn postgres_admin() -> sqlx::PgConnection {
    let admin = postgres_admin_url();
    sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "PostgreSQL is unreachable at {admin}: {err} \
                 (start it, or set SCHOLIA_SKIP_POSTGRES=1 to leave the PostgreSQL tests out)"
            )
        })
}

/// A fresh, empty database URL on `backend`, or None when this run leaves PostgreSQL out.
pub async fn fresh_database(
    backend: Backend,
    dir: &std::path::Path,
) -> Option<(String, Option<String>)> {
    match backend {
        Backend::Sqlite => Some((scholia::config::sqlite_url(&dir.join("test.db")), None)),
        Backend::Postgres => {
            if skipping_postgres() {
                return None;
            }
            let admin = postgres_admin_url();
            let mut conn = postgres_admin().await;
            let name = format!("scholia_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin
                .rsplit_once('/')
                .map(|(base, _)| base)
                .unwrap_or(&admin);
            Some((format!("{base}/{name}"), Some(name)))
        }
    }
}

/// Prints what the server logs as an error (a 500's cause) in the output of the test that
/// met it, once per test process.
fn log_server_errors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("error"))
            .with_test_writer()
            .try_init();
    });
}

impl TestApp {
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        log_server_errors();
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg_database) = fresh_database(backend, dir.path()).await?;
        let mut config = Config::new(&database_url);
        // Tests register many readers from one address; the limit's own test lowers it.
        config.registrations_per_hour = 10_000;
        adjust(&mut config);
        let state = AppState::open(config).await.expect("open app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = state.clone();
        tokio::spawn(async move {
            scholia::app::serve_on(listener, &serving, std::future::pending()).await;
        });
        Some(Self {
            base: format!("http://{addr}"),
            state,
            database_url,
            _dir: dir,
            pg_database,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies and sends this site's `Origin` on every request.
    pub fn client(&self) -> reqwest::Client {
        let mut headers = HeaderMap::new();
        headers.insert("origin", HeaderValue::from_str(&self.base).unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// A client that keeps cookies but sends no `Origin` (a script, or a forged request).
    pub fn bare_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
    }

    /// Registers `username` (password "password-<username>") and leaves `client` signed in.
    pub async fn register(&self, client: &reqwest::Client, username: &str) -> Value {
        let response = client
            .post(self.url("/api/auth/register"))
            .json(&json!({
                "username": username,
                "password": format!("password-{username}"),
                "display_name": format!("{username} the reader"),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "register {username}");
        response.json().await.unwrap()
    }

    /// A signed-in browser-like client for a new reader.
    pub async fn reader(&self, username: &str) -> (reqwest::Client, Value) {
        let client = self.client();
        let user = self.register(&client, username).await;
        (client, user)
    }
}

impl TestApp {
    /// A signed-in client for a new account with `role` (created as an operator would).
    pub async fn user_with_role(&self, username: &str, role: Role) -> (reqwest::Client, Value) {
        let password = format!("password-{username}");
        self.state
            .store
            .create_user(NewUser {
                username,
                display_name: username,
                password_hash: &scholia::passwords::hash_password(&password).unwrap(),
                role,
            })
            .await
            .unwrap();
        let client = self.client();
        let response = client
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let user = response.json().await.unwrap();
        (client, user)
    }

    /// Uploads the fixture EPUB `name` with `client`, returning the response.
    pub async fn upload(
        &self,
        client: &reqwest::Client,
        name: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.upload_bytes(client, name, fixture(name), fields).await
    }

    pub async fn upload_bytes(
        &self,
        client: &reqwest::Client,
        name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/epub+zip")
            .unwrap();
        let mut form = reqwest::multipart::Form::new().part("file", part);
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        client
            .post(self.url("/api/books"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Imports a fixture as a librarian would and returns the new book's id.
    pub async fn import_fixture(&self, fixture: &str) -> String {
        let (librarian, _) = self
            .user_with_role(
                &format!("lib{}", uuid::Uuid::new_v4().simple()),
                Role::Librarian,
            )
            .await;
        let response = self.upload(&librarian, fixture, &[]).await;
        assert!(
            response.status().is_success(),
            "import {fixture}: {}",
            response.status()
        );
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Counts rows of `table` (for checking that nothing was written or lost).
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        self.state.store.raw().scalar(Sql::new(sql)).await.unwrap()
    }

    /// Runs `sql` with text `binds` on this app's database, for states the API cannot make.
    pub async fn execute(&self, sql: &str, binds: &[&str]) {
        let mut query = Sql::new(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        self.state.store.raw().execute(query).await.unwrap();
    }

    /// A login attempt from a new browser-like client, answered.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client()
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }
}

pub fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/epub")
        .join(name)
}

/// The bytes of the fixture EPUB `name`.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|err| panic!("fixture {name}: {err}"))
}

/// A local address no one listens on, for a `scholia serve` the test starts.
pub fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some(name) = self.pg_database.take() else {
            return;
        };
        // Dropping needs async I/O; do it on a runtime of its own so Drop can wait for it.
        let admin = postgres_admin_url();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Expands each named `async fn(TestApp)` into a test on SQLite and a test on PostgreSQL.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::start($crate::common::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

/// Asserts a problem+json answer with `status`, returning its detail message.
pub async fn expect_problem(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    let detail = body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(!detail.is_empty(), "problem has a human message");
    detail
}

/// Sends `request` and returns its JSON body, failing the test on any non-2xx answer.
pub async fn send(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let url = response.url().clone();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// Whether `passage` has over 40 characters of text.
pub fn is_long(passage: &Value) -> bool {
    passage["text"].as_str().unwrap().chars().count() > 40
}

/// The JSON of a note on `passage` (characters 5 to 15) with `body` and `audience`.
pub fn note_on(book: &str, passage: &Value, body: &str, audience: Value) -> Value {
    let text: Vec<char> = passage["text"].as_str().unwrap().chars().collect();
    json!({
        "book_id": book,
        "passage_id": passage["id"],
        "start": 5,
        "end": 15,
        "exact": text[5..15].iter().collect::<String>(),
        "body": body,
        "audience": audience,
    })
}

impl TestApp {
    /// Imports `fixture` and returns it with its passages in reading order.
    pub async fn book_with_passages(&self, fixture: &str) -> (String, Vec<Value>) {
        let book = self.import_fixture(fixture).await;
        let passages = send(
            self.client()
                .get(self.url(&format!("/api/books/{book}/passages?limit=500"))),
        )
        .await;
        (book, passages["items"].as_array().unwrap().clone())
    }

    /// Imports alice.epub and returns it with its first passage of over 40 characters, long
    /// enough for [`note_on`]'s range and more.
    pub async fn long_passage(&self) -> (String, Value) {
        let (book, passages) = self.book_with_passages("alice.epub").await;
        let passage = passages.into_iter().find(is_long).unwrap();
        (book, passage)
    }

    /// Posts a note as `client`, expecting 201, and returns it.
    pub async fn post_note(&self, client: &reqwest::Client, body: &Value) -> Value {
        let response = client
            .post(self.url("/api/annotations"))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    /// A new invite-only group owned by `owner` that each of `members` has joined.
    pub async fn group_with(
        &self,
        owner: &reqwest::Client,
        members: &[&reqwest::Client],
    ) -> String {
        let group = send(owner.post(self.url("/api/groups")).json(&json!({
            "name": "Reading circle", "description": "", "rules": "Be kind.", "open": false,
        })))
        .await;
        let id = group["id"].as_str().unwrap().to_owned();
        for member in members {
            let invite = send(
                owner
                    .post(self.url(&format!("/api/groups/{id}/invites")))
                    .json(&json!({})),
            )
            .await;
            send(
                member
                    .post(self.url("/api/groups/join"))
                    .json(&json!({"code": invite["code"], "accept_rules": true})),
            )
            .await;
        }
        id
    }
}

impl TestApp {
    /// Starts a second server on this app's database (as a second `scholia serve` would be)
    /// and returns its base URL.
    pub async fn second_server(&self) -> String {
        let mut config = Config::new(&self.database_url);
        config.registrations_per_hour = self.state.config.registrations_per_hour;
        let state = AppState::open(config).await.expect("open second app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            scholia::app::serve_on(listener, &state, std::future::pending()).await;
        });
        format!("http://{addr}")
    }
}
