//! The `scholia` binary as an operator runs it: first start, restart, user management.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{self, Backend, free_addr};
use serde_json::json;

fn scholia() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scholia"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

/// Starts `scholia serve` and waits until `/healthz` answers 200.
async fn serve(args: &[&str], addr: &str) -> Child {
    let mut child = scholia()
        .arg("serve")
        .args(args)
        .args(["--addr", addr])
        .stdout(Stdio::null())
        .spawn()
        .expect("start scholia serve");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(response) = client.get(format!("http://{addr}/healthz")).send().await {
            assert_eq!(response.status(), 200);
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("scholia serve exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    panic!("scholia serve did not answer on {addr}");
}

/// SIGTERM, then the process must exit by itself (graceful shutdown).
fn stop(mut child: Child) {
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit after SIGTERM: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("scholia serve ignored SIGTERM");
}

#[tokio::test]
async fn serve_starts_on_empty_data_dir_and_again_on_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("fresh");
    let data = data_dir.to_str().unwrap();
    let addr = free_addr();
    let child = serve(&["--data-dir", data], &addr).await;
    let page = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    stop(child);
    assert!(data_dir.join("scholia.db").exists());

    let child = serve(&["--data-dir", data], &addr).await;
    stop(child);
}

async fn user_add_then_login(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((database_url, _)) = common::fresh_database(backend, dir.path()).await else {
        return;
    };
    let migrate = scholia()
        .args(["migrate", "--database-url", &database_url])
        .status()
        .unwrap();
    assert!(migrate.success());
    let again = scholia()
        .args(["migrate", "--database-url", &database_url])
        .status()
        .unwrap();
    assert!(again.success(), "migrations are idempotent");

    let mut add = scholia()
        .args([
            "user",
            "add",
            "admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .args(["--database-url", &database_url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    assert!(add.wait_with_output().unwrap().status.success());

    let addr = free_addr();
    let child = serve(&["--database-url", &database_url], &addr).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = client
        .post(format!("http://{addr}/api/auth/login"))
        .json(&json!({"username": "admin", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let me: serde_json::Value = client
        .get(format!("http://{addr}/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    stop(child);
}

#[tokio::test]
async fn user_add_then_login_sqlite() {
    user_add_then_login(Backend::Sqlite).await;
}

#[tokio::test]
async fn user_add_then_login_postgres() {
    user_add_then_login(Backend::Postgres).await;
}

#[test]
fn import_reports_each_file_and_fails_when_any_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("books/nested");
    std::fs::create_dir_all(&books).unwrap();
    for name in ["trees.epub", "alice.epub"] {
        std::fs::copy(common::fixture_path(name), books.join(name)).unwrap();
    }
    std::fs::write(dir.path().join("books/broken.epub"), b"this is no zip").unwrap();
    let data = dir.path().join("data");
    let import = |extra: &[&str]| {
        scholia()
            .arg("import")
            .arg(dir.path().join("books"))
            .args(["--data-dir", data.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };

    let first = import(&["--json"]);
    assert!(
        !first.status.success(),
        "a refused file makes the exit status non-zero"
    );
    let reports: Vec<serde_json::Value> = String::from_utf8(first.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(reports.len(), 3);
    let status = |name: &str| {
        reports
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    assert_eq!(status("trees.epub")["status"], "imported");
    assert_eq!(status("alice.epub")["status"], "imported");
    let broken = status("broken.epub");
    assert_eq!(broken["status"], "refused");
    assert!(
        broken["reason"].as_str().unwrap().contains("zip"),
        "{broken}"
    );

    std::fs::remove_file(dir.path().join("books/broken.epub")).unwrap();
    let second = import(&[]);
    assert!(second.status.success());
    let summary = String::from_utf8(second.stdout).unwrap();
    assert!(
        summary.contains("0 imported, 2 duplicates, 0 refused"),
        "{summary}"
    );
}

/// SQLite keeps no statistics of its own: an import leaves the planner figures for what it
/// stored (the rows of the passages it wrote), not those of the empty tables it began with,
/// and no value samples.
#[tokio::test]
async fn an_import_leaves_statistics_for_what_it_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let import = scholia()
        .arg("import")
        .arg(common::fixture_path("alice.epub"))
        .args(["--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(import.status.success(), "{import:?}");

    let url = format!("sqlite://{}", data.join("scholia.db").display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    let passages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passages")
        .fetch_one(&db)
        .await
        .unwrap();
    // An index's stat begins with the number of rows the analysis counted.
    let stat: String =
        sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE idx = 'passages_order'")
            .fetch_one(&db)
            .await
            .unwrap();
    let counted: i64 = stat.split(' ').next().unwrap().parse().unwrap();
    assert!(passages > 100, "{passages}");
    assert_eq!(counted, passages, "{stat}");
    // No samples: with them SQLite compiles a statement again whenever a value is bound.
    let samples: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_stat4")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(samples, 0);
}

/// An EPUB whose manifest lists an image the archive lacks (imported, with a warning).
fn epub_missing_an_image() -> Vec<u8> {
    use std::io::Write;
    let container = r#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
    let opf = r#"<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Warned</dc:title><dc:identifier id="id">urn:warned</dc:identifier><dc:language>en</dc:language></metadata><manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/><item id="lost" href="lost.png" media-type="image/png"/></manifest><spine><itemref idref="c"/></spine></package>"#;
    let chapter = r#"<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head><body><p>Some words to read.</p></body></html>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in [
        ("mimetype", "application/epub+zip"),
        ("META-INF/container.xml", container),
        ("content.opf", opf),
        ("c.xhtml", chapter),
    ] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn import_prints_warnings_and_names_unknown_groups() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("warned.epub");
    std::fs::write(&book, epub_missing_an_image()).unwrap();
    let data = dir.path().join("data");
    let import = |extra: &[&str]| {
        scholia()
            .arg("import")
            .arg(&book)
            .args(["--data-dir", data.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let ghost = uuid::Uuid::new_v4().to_string();
    let refused = import(&["--access", "groups", "--groups", &ghost]);
    assert!(!refused.status.success());
    let text = String::from_utf8(refused.stdout).unwrap();
    assert!(text.contains("refused") && text.contains(&ghost), "{text}");

    let imported = import(&[]);
    assert!(imported.status.success());
    let text = String::from_utf8(imported.stdout).unwrap();
    assert!(
        text.contains("warning") && text.contains("lost.png"),
        "{text}"
    );
}

#[test]
fn user_add_without_a_terminal_says_how_to_pass_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = scholia()
        .args(["user", "add", "nora", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(error.contains("--password-stdin"), "{error}");
}

#[test]
fn each_command_lists_only_the_flags_that_apply() {
    let help = |command: &[&str]| {
        let output = scholia().args(command).arg("--help").output().unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let serve = help(&["serve"]);
    for flag in [
        "--max-file-bytes",
        "--trusted-proxy",
        "--idle-timeout",
        "--database-url",
    ] {
        assert!(serve.contains(flag), "serve --help lacks {flag}");
    }
    assert!(help(&["import"]).contains("--max-compression-ratio"));
    for command in [&["migrate"][..], &["user", "add"]] {
        let text = help(command);
        assert!(text.contains("--database-url"), "{command:?}");
        for flag in ["--max-file-bytes", "--allow-registration", "--public-url"] {
            assert!(!text.contains(flag), "{command:?} --help lists {flag}");
        }
    }
}

#[test]
fn serve_prints_its_url_and_what_to_do_next() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let mut child = scholia()
        .args(["serve", "--addr", &addr, "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, first_line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut first);
        let _ = sender.send(first);
    });
    let first = first_line.recv_timeout(Duration::from_secs(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let first = first.expect("scholia serve printed nothing");
    assert!(first.contains(&format!("http://{addr}/")), "{first}");
}
