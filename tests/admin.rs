//! Admins manage accounts and roles; librarians and admins list every group to choose who
//! may read a book. Over HTTP on both databases.

use crate::common::{TestApp, expect_problem, send};
use scholia::store::Sql;
use scholia::store::users::Role;
use serde_json::{Value, json};

both_databases!(
    admins_list_accounts_and_search_them,
    only_admins_manage_accounts,
    admins_grant_and_withdraw_roles_but_never_the_last_admin,
    concurrent_demotions_leave_an_admin,
    librarians_list_every_group_and_readers_only_theirs,
);

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect()
}

async fn admins_list_accounts_and_search_them(app: TestApp) {
    let (admin, _) = app.user_with_role("root", Role::Admin).await;
    let (_, ann) = app.reader("ann").await;
    app.reader("bob").await;
    app.user_with_role("libby", Role::Librarian).await;

    let all = send(admin.get(app.url("/api/users"))).await;
    assert_eq!(names(&all), ["ann", "bob", "libby", "root"]);
    let first = &all["items"][0];
    assert_eq!(first["id"], ann["id"]);
    assert_eq!(first["display_name"], "ann the reader");
    assert_eq!(first["role"], "reader");
    assert!(first["created"].is_string());
    assert!(first.get("password_hash").is_none());
    assert_eq!(all["items"][2]["role"], "librarian");

    // By login or display name, case-insensitively; LIKE's wildcards are plain characters.
    let found = send(admin.get(app.url("/api/users?q=THE%20READER"))).await;
    assert_eq!(names(&found), ["ann", "bob"]);
    let found = send(admin.get(app.url("/api/users?q=lib"))).await;
    assert_eq!(names(&found), ["libby"]);
    let none = send(admin.get(app.url("/api/users?q=%25"))).await;
    assert_eq!(names(&none), Vec::<&str>::new());

    let page = send(admin.get(app.url("/api/users?limit=3"))).await;
    assert_eq!(names(&page), ["ann", "bob", "libby"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = send(admin.get(app.url(&format!("/api/users?limit=3&cursor={cursor}")))).await;
    assert_eq!(names(&rest), ["root"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let bad = admin
        .get(app.url("/api/users?cursor=junk"))
        .send()
        .await
        .unwrap();
    expect_problem(bad, 400).await;
}

async fn only_admins_manage_accounts(app: TestApp) {
    let (reader, reader_user) = app.reader("ann").await;
    let (librarian, _) = app.user_with_role("libby", Role::Librarian).await;
    let id = reader_user["id"].as_str().unwrap();
    for client in [&reader, &librarian] {
        expect_problem(client.get(app.url("/api/users")).send().await.unwrap(), 403).await;
        let promote = client
            .patch(app.url(&format!("/api/users/{id}")))
            .json(&json!({"role": "admin"}))
            .send()
            .await
            .unwrap();
        expect_problem(promote, 403).await;
    }
    let anonymous = app.client();
    expect_problem(
        anonymous.get(app.url("/api/users")).send().await.unwrap(),
        401,
    )
    .await;
    let me = send(reader.get(app.url("/api/me"))).await;
    assert_eq!(me["role"], "reader", "nothing changed");
}

async fn admins_grant_and_withdraw_roles_but_never_the_last_admin(app: TestApp) {
    let (admin, admin_user) = app.user_with_role("root", Role::Admin).await;
    let (ann, ann_user) = app.reader("ann").await;
    let user_url = |user: &Value| app.url(&format!("/api/users/{}", user["id"].as_str().unwrap()));
    let set = |user: &Value, role: &str| admin.patch(user_url(user)).json(&json!({"role": role}));

    let granted = send(set(&ann_user, "librarian")).await;
    assert_eq!(granted["role"], "librarian");
    assert_eq!(granted["username"], "ann");
    // The role holds at once for ann's running session.
    assert_eq!(send(ann.get(app.url("/api/me"))).await["role"], "librarian");
    let upload = app.upload(&ann, "hefty-water.epub", &[]).await;
    assert_eq!(upload.status(), 201);
    let withdrawn = send(set(&ann_user, "reader")).await;
    assert_eq!(withdrawn["role"], "reader");
    expect_problem(app.upload(&ann, "trees.epub", &[]).await, 403).await;

    // The only admin cannot step down; with a second admin they can.
    let detail = expect_problem(set(&admin_user, "librarian").send().await.unwrap(), 409).await;
    assert!(detail.contains("last admin"), "{detail}");
    assert_eq!(send(admin.get(app.url("/api/me"))).await["role"], "admin");
    send(set(&ann_user, "admin")).await;
    let stepped_down = send(set(&admin_user, "reader")).await;
    assert_eq!(stepped_down["role"], "reader");
    expect_problem(admin.get(app.url("/api/users")).send().await.unwrap(), 403).await;
    let last = ann
        .patch(user_url(&ann_user))
        .json(&json!({"role": "reader"}));
    expect_problem(last.send().await.unwrap(), 409).await;

    let bad_role = ann
        .patch(user_url(&ann_user))
        .json(&json!({"role": "owner"}));
    expect_problem(bad_role.send().await.unwrap(), 400).await;
    let missing = ann
        .patch(app.url(&format!("/api/users/{}", uuid::Uuid::new_v4())))
        .json(&json!({"role": "reader"}));
    expect_problem(missing.send().await.unwrap(), 404).await;
}

async fn concurrent_demotions_leave_an_admin(app: TestApp) {
    let demote = |client: &reqwest::Client, user: &Value| {
        client
            .patch(app.url(&format!("/api/users/{}", user["id"].as_str().unwrap())))
            .json(&json!({"role": "reader"}))
            .send()
    };
    let admins = || async {
        let count: i64 = app
            .state
            .store
            .raw()
            .scalar(Sql::new("SELECT COUNT(*) FROM users WHERE role = 'admin'"))
            .await
            .unwrap();
        count
    };
    let mut survivor = app.user_with_role("admin0", Role::Admin).await;
    // Round after round, the last admin and a new one demote each other at the same moment.
    for round in 1..=4 {
        let newcomer = app
            .user_with_role(&format!("admin{round}"), Role::Admin)
            .await;
        let (a, b) = tokio::join!(
            demote(&survivor.0, &newcomer.1),
            demote(&newcomer.0, &survivor.1)
        );
        let (a, b) = (a.unwrap().status().as_u16(), b.unwrap().status().as_u16());
        // The one demoted first is refused: 409, or 403 when it finds itself demoted already.
        assert!(
            matches!((a, b), (200, 403 | 409) | (403 | 409, 200)),
            "round {round}: {a} {b}"
        );
        assert_eq!(admins().await, 1, "round {round}");
        if a != 200 {
            survivor = newcomer;
        }
    }
}

async fn librarians_list_every_group_and_readers_only_theirs(app: TestApp) {
    let (ann, _) = app.reader("ann").await;
    let (bob, _) = app.reader("bob").await;
    let (librarian, _) = app.user_with_role("libby", Role::Librarian).await;
    let (admin, _) = app.user_with_role("root", Role::Admin).await;
    let circle = app.group_with(&ann, &[&bob]).await;
    let solo = send(bob.post(app.url("/api/groups")).json(&json!({
        "name": "Alone", "description": "secret plans", "rules": "none", "open": false,
    })))
    .await;

    for client in [&librarian, &admin] {
        let all = send(client.get(app.url("/api/groups?all=true"))).await;
        assert_eq!(
            all["items"],
            json!([
                {"id": solo["id"], "name": "Alone", "member_count": 1},
                {"id": circle, "name": "Reading circle", "member_count": 2},
            ])
        );
        let page = send(client.get(app.url("/api/groups?all=true&limit=1"))).await;
        assert_eq!(page["items"][0]["name"], "Alone");
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest =
            send(client.get(app.url(&format!("/api/groups?all=true&limit=1&cursor={cursor}"))))
                .await;
        assert_eq!(rest["items"][0]["id"], circle);
    }
    // A librarian can then give the book to a group they are not in.
    let book = app.import_fixture("hefty-water.epub").await;
    send(
        librarian
            .patch(app.url(&format!("/api/books/{book}")))
            .json(&json!({"access": "groups", "groups": [solo["id"]]})),
    )
    .await;
    send(bob.get(app.url(&format!("/api/books/{book}")))).await;
    expect_problem(
        ann.get(app.url(&format!("/api/books/{book}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;

    expect_problem(
        ann.get(app.url("/api/groups?all=true"))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let mine = send(ann.get(app.url("/api/groups"))).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["id"], circle);
    assert_eq!(mine["items"][0]["role"], "owner");
    let also_mine = send(ann.get(app.url("/api/groups?all=false"))).await;
    assert_eq!(also_mine, mine);
    let none = send(librarian.get(app.url("/api/groups"))).await;
    assert_eq!(none["items"], json!([]));
}
