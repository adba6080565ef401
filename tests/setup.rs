//! The first run over HTTP on both databases: the one-time setup link creates the first
//! account, an admin, and nothing else.

use crate::common::{Backend, TestApp, expect_problem, send};
use scholia::store::Sql;
use scholia::store::users::{NewUser, Role};
use serde_json::{Value, json};

both_databases!(
    setup_link_creates_the_first_admin_and_signs_them_in,
    setup_link_survives_wrong_tokens_and_bad_input,
    setup_link_expires_and_is_replaced_by_a_newer_one,
    setup_link_works_only_while_there_is_no_admin,
    concurrent_setups_create_exactly_one_admin,
);

fn first_admin() -> Value {
    json!({"username": "Root", "password": "a long passphrase", "display_name": "The Admin"})
}

async fn token(app: &TestApp) -> String {
    app.state
        .store
        .issue_setup_token()
        .await
        .unwrap()
        .expect("no account yet: a token")
}

async fn setup_link_creates_the_first_admin_and_signs_them_in(app: TestApp) {
    let token = token(&app).await;
    // Only the token's SHA-256 is stored.
    let stored: String = app
        .state
        .store
        .raw()
        .scalar(Sql::new("SELECT token_hash FROM setup_tokens"))
        .await
        .unwrap();
    assert_eq!(stored, scholia::store::tokens::hash_token(&token));
    assert_ne!(stored, token);
    assert_eq!(token.len(), 43, "32 bytes in base64url");

    let client = app.client();
    let url = app.url(&format!("/api/setup/{token}"));
    assert_eq!(send(client.get(&url)).await, json!({"valid": true}));
    let created = client.post(&url).json(&first_admin()).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["username"], "root");
    assert_eq!(created["role"], "admin");
    assert!(created["csrf_token"].is_string());
    let me = send(client.get(app.url("/api/me"))).await;
    assert_eq!(me["id"], created["id"]);
    assert_eq!(me["role"], "admin");

    // The link is used up, and no new one is issued now that an account exists.
    expect_problem(client.get(&url).send().await.unwrap(), 404).await;
    let again = app
        .client()
        .post(&url)
        .json(&first_admin())
        .send()
        .await
        .unwrap();
    expect_problem(again, 404).await;
    assert_eq!(app.state.store.issue_setup_token().await.unwrap(), None);
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("setup_tokens").await, 0);

    // The admin signs in again with the password chosen.
    let login = app.login("root", "a long passphrase").await;
    assert_eq!(login.status(), 200);
}

async fn setup_link_survives_wrong_tokens_and_bad_input(app: TestApp) {
    let token = token(&app).await;
    let client = app.client();
    let wrong = app.url("/api/setup/not-the-token");
    expect_problem(client.get(&wrong).send().await.unwrap(), 404).await;
    let guessed = client
        .post(&wrong)
        .json(&first_admin())
        .send()
        .await
        .unwrap();
    expect_problem(guessed, 404).await;

    let url = app.url(&format!("/api/setup/{token}"));
    let mut short = first_admin();
    short["password"] = json!("short");
    let detail = expect_problem(client.post(&url).json(&short).send().await.unwrap(), 400).await;
    assert!(detail.contains("at least 8"), "{detail}");
    let mut bad_name = first_admin();
    bad_name["username"] = json!("a b");
    expect_problem(client.post(&url).json(&bad_name).send().await.unwrap(), 400).await;
    let missing = client
        .post(&url)
        .json(&json!({"username": "root"}))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 400).await;
    assert_eq!(app.count("users").await, 0);

    // None of that used up the real link.
    assert_eq!(send(client.get(&url)).await, json!({"valid": true}));
    let created = client.post(&url).json(&first_admin()).send().await.unwrap();
    assert_eq!(created.status(), 201);
}

async fn setup_link_expires_and_is_replaced_by_a_newer_one(app: TestApp) {
    let older = token(&app).await;
    let newer = token(&app).await;
    let client = app.client();
    let older_url = app.url(&format!("/api/setup/{older}"));
    expect_problem(client.get(&older_url).send().await.unwrap(), 404).await;
    let newer_url = app.url(&format!("/api/setup/{newer}"));
    assert_eq!(send(client.get(&newer_url)).await, json!({"valid": true}));

    app.state
        .store
        .raw()
        .execute(
            Sql::new("UPDATE setup_tokens SET expires_at = $1")
                .bind(scholia::store::now_micros() - 1),
        )
        .await
        .map(|_| ())
        .unwrap();
    expect_problem(client.get(&newer_url).send().await.unwrap(), 404).await;
    let late = client
        .post(&newer_url)
        .json(&first_admin())
        .send()
        .await
        .unwrap();
    expect_problem(late, 404).await;
    assert_eq!(app.count("users").await, 0);
}

async fn setup_link_works_only_while_there_is_no_admin(app: TestApp) {
    let token = token(&app).await;
    let url = app.url(&format!("/api/setup/{token}"));
    // A reader who registered first does not lock the operator out.
    app.reader("early").await;
    let client = app.client();
    assert_eq!(send(client.get(&url)).await, json!({"valid": true}));

    app.state
        .store
        .create_user(NewUser {
            username: "operator",
            display_name: "Operator",
            password_hash: "x",
            role: Role::Admin,
        })
        .await
        .unwrap();
    expect_problem(client.get(&url).send().await.unwrap(), 404).await;
    expect_problem(
        client.post(&url).json(&first_admin()).send().await.unwrap(),
        404,
    )
    .await;
    assert_eq!(app.count("users").await, 2);
    assert_eq!(
        app.state.store.issue_setup_token().await.unwrap(),
        None,
        "no new link once an admin exists"
    );
    assert_eq!(
        app.count("setup_tokens").await,
        0,
        "and the old one is gone"
    );
}

async fn concurrent_setups_create_exactly_one_admin(app: TestApp) {
    let token = token(&app).await;
    let url = app.url(&format!("/api/setup/{token}"));
    let attempts = (0..4).map(|i| {
        let client = app.client();
        let url = url.clone();
        async move {
            let body = json!({
                "username": format!("admin{i}"),
                "password": "a long passphrase",
                "display_name": format!("Admin {i}"),
            });
            client
                .post(&url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let mut statuses = futures::future::join_all(attempts).await;
    statuses.sort_unstable();
    assert_eq!(statuses[0], 201, "{statuses:?}");
    assert!(
        statuses[1..].iter().all(|s| [404, 409].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn setup_link_works_with_registration_turned_off() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::start_with(backend, |c| c.allow_registration = false).await else {
            continue;
        };
        let token = token(&app).await;
        let client = app.client();
        let url = app.url(&format!("/api/setup/{token}"));
        let created = client.post(&url).json(&first_admin()).send().await.unwrap();
        assert_eq!(created.status(), 201, "{backend:?}");
        let register = app
            .client()
            .post(app.url("/api/auth/register"))
            .json(&json!({"username": "eve", "password": "password-eve", "display_name": "Eve"}))
            .send()
            .await
            .unwrap();
        expect_problem(register, 403).await;
    }
}
