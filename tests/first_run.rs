//! `scholia serve` on an empty database as an operator sees it: the setup link it prints
//! creates the admin account; with `--demo`, the demo readers it prints can sign in.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::free_addr;
use serde_json::json;

/// A running `scholia serve` with the lines it printed on standard output.
struct Server {
    child: Child,
    stdout: mpsc::Receiver<String>,
}

impl Server {
    fn start(data_dir: &str, addr: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scholia"))
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .args(["serve", "--data-dir", data_dir, "--addr", addr])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start scholia serve");
        let (lines, stdout) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, stdout }
    }

    async fn wait_until_up(&mut self, addr: &str) {
        for _ in 0..200 {
            if reqwest::get(format!("http://{addr}/healthz")).await.is_ok() {
                return;
            }
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "serve exited early"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("scholia serve did not answer on {addr}");
    }

    /// The setup link, once it is printed.
    fn setup_link(&self) -> String {
        self.lines_until(|line| setup_link(line).is_some())
            .last()
            .and_then(|line| setup_link(line))
            .unwrap()
    }

    /// The lines printed up to and including the first that `last` accepts.
    fn lines_until(&self, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self
                .stdout
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("printed only {lines:?}"));
            let done = last(&line);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Stops the server and returns everything else it printed.
    fn stop(mut self) -> Vec<String> {
        Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(self.child.wait().unwrap().success());
        self.stdout.iter().collect()
    }
}

/// A failed test must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The setup link in `line`, if it holds one.
fn setup_link(line: &str) -> Option<String> {
    line.split_whitespace()
        .find(|word| word.contains("/setup/"))
        .map(str::to_owned)
}

#[tokio::test]
async fn first_start_prints_a_setup_link_that_creates_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let addr = free_addr();

    let mut server = Server::start(data, &addr, &[]);
    server.wait_until_up(&addr).await;
    let first = server.setup_link();
    assert!(
        first.starts_with(&format!("http://{addr}/setup/")),
        "{first}"
    );
    server.stop();

    // Still no account: a new start prints a fresh link, and only that one works.
    let mut server = Server::start(data, &addr, &[]);
    server.wait_until_up(&addr).await;
    let link = server.setup_link();
    assert_ne!(link, first);
    let token = link.rsplit('/').next().unwrap();
    let api = |token: &str| format!("http://{addr}/api/setup/{token}");
    let old_token = first.rsplit('/').next().unwrap();
    assert_eq!(reqwest::get(api(old_token)).await.unwrap().status(), 404);
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200, "the link opens the web app");

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let created = client
        .post(api(token))
        .header("origin", format!("http://{addr}"))
        .json(&json!({"username": "root", "password": "a long passphrase", "display_name": "Root"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let me: serde_json::Value = client
        .get(format!("http://{addr}/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    server.stop();

    // With an admin, no link is printed any more.
    let mut server = Server::start(data, &addr, &[]);
    server.wait_until_up(&addr).await;
    let printed = server.stop();
    assert!(
        printed.iter().all(|line| setup_link(line).is_none()),
        "{printed:?}"
    );
}

#[tokio::test]
async fn demo_prints_readers_who_can_sign_in_and_the_admin_link() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let addr = free_addr();

    let mut server = Server::start(data, &addr, &["--demo"]);
    server.wait_until_up(&addr).await;
    let printed = server.lines_until(|line| setup_link(line).is_some());
    // "  ada / PASSWORD  (Ada)"
    let logins: Vec<(String, String)> = printed
        .iter()
        .filter_map(|line| {
            let (username, rest) = line.strip_prefix("  ")?.split_once(" / ")?;
            Some((
                username.to_owned(),
                rest.split_whitespace().next()?.to_owned(),
            ))
        })
        .collect();
    assert_eq!(logins.len(), 2, "{printed:?}");
    for (username, password) in &logins {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let login = client
            .post(format!("http://{addr}/api/auth/login"))
            .header("origin", format!("http://{addr}"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200, "{username}");
        let groups: serde_json::Value = client
            .get(format!("http://{addr}/api/groups"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(groups["items"][0]["name"], "Demo reading circle");
    }
    let link = setup_link(printed.last().unwrap()).unwrap();
    let token = link.rsplit('/').next().unwrap();
    let valid = reqwest::get(format!("http://{addr}/api/setup/{token}"))
        .await
        .unwrap();
    assert_eq!(
        valid.status(),
        200,
        "the admin's link works beside the demo readers"
    );
    server.stop();

    // Again on the now seeded database: it says it skips the demo and adds nothing.
    let mut server = Server::start(data, &addr, &["--demo"]);
    server.wait_until_up(&addr).await;
    let books: serde_json::Value = reqwest::get(format!("http://{addr}/api/books"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(books["items"].as_array().unwrap().len(), 2);
    let printed = server.stop();
    assert!(
        printed.iter().any(|line| line.contains("skipped")),
        "{printed:?}"
    );
    assert!(
        printed.iter().all(|line| !line.starts_with("  ")),
        "no new logins: {printed:?}"
    );
}
