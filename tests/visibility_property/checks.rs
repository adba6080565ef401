//! Every annotation-returning endpoint, for every user and an anonymous client on every
//! book, against what the oracle says.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Client;
use serde_json::{Value, json};

use super::Check;
use super::model::*;
use super::operations::{BOOKS, PASSAGES, World, audience_json, call};

fn viewer_name(viewer: Viewer) -> String {
    match viewer {
        Some(u) => format!("user {u}"),
        None => "anonymous".to_owned(),
    }
}

/// One item as the oracle expects it to look to `viewer`.
fn check_item(
    world: &World,
    viewer: Viewer,
    item: &Value,
    note: usize,
    shown: &BTreeSet<usize>,
    context: &str,
) -> Check {
    world.compared.set(world.compared.get() + 1);
    let model = &world.model;
    let n = &model.notes[note];
    let own = model.own(viewer, note);
    // Only the author still sees an anonymized note as theirs; a tombstone is nobody's.
    let author = if n.authorless || (n.anonymous && !own) {
        Value::Null
    } else {
        json!(world.user_ids[n.author])
    };
    // Whether it was written blind is the author's to show, never on an anonymized note.
    let shows_blind =
        own || (!n.anonymous && !n.authorless && model.preferences[n.author].show_written_blind);
    let reply_to = n.reply_to.map(|p| json!(model.notes[p].id));
    let expected = [
        ("author.id", author),
        ("audience", audience_json(world, n.audience)),
        ("hidden", json!(n.hidden)),
        ("deleted", json!(n.deleted)),
        ("reply_to", reply_to.unwrap_or(Value::Null)),
        ("replies", json!(model.replies_shown(note, shown))),
        ("mine", json!(own)),
        ("written_blind", json!(n.written_blind && shows_blind)),
    ];
    for (field, want) in expected {
        let got = match field {
            "author.id" => &item["author"]["id"],
            other => &item[other],
        };
        ensure!(
            *got == want,
            "{context}: note #{note} field {field}: expected {want}, got {got}"
        );
    }
    if n.deleted {
        ensure!(
            item["body"].is_null(),
            "{context}: tombstone #{note} keeps a body"
        );
        ensure!(
            item["author"]["display_name"].is_null(),
            "{context}: tombstone #{note} names {}",
            item["author"]
        );
    }
    if let Some(updated) = &n.updated {
        ensure!(
            item["updated"] == updated.as_str(),
            "{context}: note #{note} updated {}, was {updated}",
            item["updated"]
        );
    }
    Ok(())
}

/// Walks every page of a listing, returning the items by note index.
async fn walk(
    world: &World,
    client: &Client,
    book: usize,
    query: &str,
    limit: usize,
    context: &str,
) -> Result<Vec<(usize, Value)>, String> {
    let book_id = &world.book_ids[book];
    let index: BTreeMap<&str, usize> = world
        .model
        .notes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let mut url = format!("/api/books/{book_id}/annotations?limit={limit}{query}");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let (status, body) = call(client.get(world.app.url(&url))).await;
        ensure!(status == 200, "{context}: {url} answered {status} {body}");
        let page = body["items"].as_array().cloned().unwrap_or_default();
        ensure!(page.len() <= limit, "{context}: a page longer than {limit}");
        for item in page {
            let id = item["id"].as_str().unwrap_or_default();
            let Some(&note) = index.get(id) else {
                return Err(format!("{context}: unknown annotation {id} listed: {item}"));
            };
            items.push((note, item));
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(items),
        }
    }
    Err(format!("{context}: more than 200 pages"))
}

fn describe(world: &World, notes: &BTreeSet<usize>) -> String {
    let parts: Vec<String> = notes
        .iter()
        .map(|&i| {
            let n = &world.model.notes[i];
            format!(
                "#{i}(by u{} {:?} p{}{}{}{}{})",
                n.author,
                n.audience,
                n.passage,
                n.reply_to.map(|p| format!(" re #{p}")).unwrap_or_default(),
                if n.hidden { " hidden" } else { "" },
                if n.deleted { " tombstone" } else { "" },
                if n.anonymous { " anon" } else { "" },
            )
        })
        .collect();
    parts.join(", ")
}

fn compare_sets(
    world: &World,
    got: &[(usize, Value)],
    want: &BTreeSet<usize>,
    context: &str,
) -> Check {
    let set: BTreeSet<usize> = got.iter().map(|(i, _)| *i).collect();
    ensure!(
        set.len() == got.len(),
        "{context}: a note listed twice across pages"
    );
    let leaked: BTreeSet<usize> = set.difference(want).copied().collect();
    let missing: BTreeSet<usize> = want.difference(&set).copied().collect();
    ensure!(
        leaked.is_empty() && missing.is_empty(),
        "{context}: leaked [{}], missing [{}]",
        describe(world, &leaked),
        describe(world, &missing)
    );
    Ok(())
}

/// The counts endpoint against the oracle's notes per passage among `want`.
async fn check_counts(
    world: &World,
    client: &Client,
    book: usize,
    query: &str,
    want: &BTreeSet<usize>,
    context: &str,
) -> Check {
    let book_id = &world.book_ids[book];
    let url = format!(
        "/api/books/{book_id}/annotations/counts?{}",
        query.trim_start_matches('&')
    );
    let (status, body) = call(client.get(world.app.url(&url))).await;
    ensure!(status == 200, "{context}: counts answered {status} {body}");
    let mut got = BTreeMap::new();
    for item in body["items"].as_array().cloned().unwrap_or_default() {
        got.insert(
            item["passage_id"].as_str().unwrap_or_default().to_owned(),
            item["count"].as_u64().unwrap_or_default() as usize,
        );
    }
    let mut expected = BTreeMap::new();
    for &i in want {
        let passage = world.passages[book][world.model.notes[i].passage].0.clone();
        *expected.entry(passage).or_insert(0) += 1;
    }
    ensure!(
        got == expected,
        "{context}: counts {got:?}, oracle {expected:?} from [{}]",
        describe(world, want)
    );
    Ok(())
}

/// Search: every note body holds "zq", so searching it must find exactly the shown notes
/// that still have words (tombstones have none).
async fn check_search(
    world: &World,
    client: &Client,
    book: usize,
    query: &str,
    want: &BTreeSet<usize>,
    context: &str,
) -> Check {
    let book_id = &world.book_ids[book];
    let url = format!("/api/books/{book_id}/search?q=zq&annotations_limit=100{query}");
    let (status, body) = call(client.get(world.app.url(&url))).await;
    ensure!(status == 200, "{context}: search answered {status} {body}");
    let index: BTreeMap<&str, usize> = world
        .model
        .notes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut got = Vec::new();
    for item in body["annotations"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let id = item["id"].as_str().unwrap_or_default();
        let Some(&note) = index.get(id) else {
            return Err(format!("{context}: search found unknown annotation {id}"));
        };
        got.push((note, item));
    }
    let with_words: BTreeSet<usize> = want
        .iter()
        .copied()
        .filter(|&i| !world.model.notes[i].deleted)
        .collect();
    compare_sets(world, &got, &with_words, &format!("{context}, search"))
}

/// Export: exactly the user's own notes that still have words and that they may read.
async fn check_export(world: &World, client: &Client, user: usize) -> Check {
    let (status, body) = call(client.get(world.app.url("/api/me/export"))).await;
    let context = format!("{}: export", viewer_name(Some(user)));
    ensure!(status == 200, "{context} answered {status} {body}");
    let index: BTreeMap<&str, usize> = world
        .model
        .notes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut got = Vec::new();
    for book in body["books"].as_array().cloned().unwrap_or_default() {
        for item in book["annotations"].as_array().cloned().unwrap_or_default() {
            let id = item["id"].as_str().unwrap_or_default();
            let Some(&note) = index.get(id) else {
                return Err(format!("{context}: unknown annotation {id}"));
            };
            got.push((note, item));
        }
    }
    let model = &world.model;
    // Every note of theirs, also on books they may no longer read.
    let want: BTreeSet<usize> = (0..model.notes.len())
        .filter(|&i| model.own(Some(user), i))
        .collect();
    compare_sets(world, &got, &want, &context)?;
    for (note, item) in &got {
        let book = model.notes[*note].book;
        check_item(
            world,
            Some(user),
            item,
            *note,
            &model.shown(Some(user), book, None),
            &context,
        )?;
    }
    Ok(())
}

/// The report queue: open reports on notes the viewer moderates and reads by the rule,
/// never on their own notes.
async fn check_reports(world: &World, client: &Client, user: usize) -> Check {
    let model = &world.model;
    let context = format!("{}: reports", viewer_name(Some(user)));
    let mut got = Vec::new();
    let mut cursor = String::new();
    for _ in 0..100 {
        let url = format!("/api/reports?limit=7&cursor={cursor}");
        let (status, body) = call(client.get(world.app.url(&url))).await;
        ensure!(status == 200, "{context} answered {status} {body}");
        for item in body["items"].as_array().cloned().unwrap_or_default() {
            let id = item["annotation"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            got.push((id, item["reason"].as_str().unwrap_or_default().to_owned()));
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    got.sort();
    let mut want: Vec<(String, String)> = model
        .reports
        .iter()
        .filter(|r| {
            r.open
                && !model.notes[r.note].removed
                && model.may_read(Some(user), r.note)
                && model.moderates(user, r.note)
        })
        .map(|r| {
            (
                model.notes[r.note].id.clone(),
                format!("u{} objects", r.reporter),
            )
        })
        .collect();
    want.sort();
    ensure!(got == want, "{context}: got {got:?}, oracle {want:?}");
    Ok(())
}

/// Each member's group page shows the changes since they joined that they did not make
/// or dismiss, oldest first.
async fn check_notices(world: &World, client: &Client, user: usize) -> Check {
    let model = &world.model;
    for group in 0..model.groups.len() {
        if model.role_in(user, group).is_none() {
            continue;
        }
        let id = &world.group_ids[group];
        let (status, body) = call(client.get(world.app.url(&format!("/api/groups/{id}")))).await;
        ensure!(
            status == 200,
            "u{user}: group {group} answered {status} {body}"
        );
        let got: Vec<String> = body["notices"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
            .collect();
        let want: Vec<String> = model
            .notices_for(user, group)
            .into_iter()
            .map(|i| model.notices[i].kind.to_owned())
            .collect();
        ensure!(
            got == want,
            "u{user}: notices of group {group}: got {got:?}, oracle {want:?}"
        );
    }
    Ok(())
}

/// Mutes list a person's name only while the muter reads a note signed by them.
async fn check_mutes(world: &World, client: &Client, user: usize) -> Check {
    let model = &world.model;
    let context = format!("{}: mutes", viewer_name(Some(user)));
    let (status, body) = call(client.get(world.app.url("/api/me/mutes"))).await;
    ensure!(status == 200, "{context} answered {status} {body}");
    let mut got = BTreeMap::new();
    for item in body["items"].as_array().cloned().unwrap_or_default() {
        let id = item["user_id"].as_str().unwrap_or_default().to_owned();
        got.insert(id, !item["display_name"].is_null());
    }
    let want: BTreeMap<String, bool> = model
        .mutes
        .iter()
        .filter(|(muter, _)| *muter == user)
        .map(|&(_, muted)| {
            (
                world.user_ids[muted].clone(),
                model.reads_notes_by(user, muted),
            )
        })
        .collect();
    ensure!(got == want, "{context}: got {got:?}, oracle {want:?}");
    Ok(())
}

async fn check_viewer(world: &World, viewer: Viewer) -> Check {
    let model = &world.model;
    let client = match viewer {
        Some(u) => &world.clients[u],
        None => &world.anonymous,
    };
    let who = viewer_name(viewer);
    for book in 0..BOOKS.len() {
        let book_id = &world.book_ids[book];
        let readable = model.may_read_book(viewer, book);
        let preference = model.margin_of(viewer, book);
        let asks = [
            (None, preference),
            (
                Some(Mode::None),
                Margin {
                    mode: Mode::None,
                    ..preference
                },
            ),
            (
                Some(Mode::Groups),
                Margin {
                    mode: Mode::Groups,
                    ..preference
                },
            ),
            (
                Some(Mode::Everyone),
                Margin {
                    mode: Mode::Everyone,
                    ..preference
                },
            ),
        ];
        for (asked, margin) in asks {
            let query = asked
                .map(|m| format!("&margin={}", m.as_str()))
                .unwrap_or_default();
            let context = format!("{who} on book {book} ({margin:?}, asked {asked:?})");
            if !readable {
                for path in ["annotations", "annotations/counts"] {
                    let url = format!("/api/books/{book_id}/{path}?limit=5{query}");
                    let (status, _) = call(client.get(world.app.url(&url))).await;
                    ensure!(
                        status == 404,
                        "{context}: unreadable book's {path} answered {status}"
                    );
                }
                continue;
            }
            let want = model.shown(viewer, book, Some(margin));

            let newest = walk(world, client, book, &query, 2, &context).await?;
            compare_sets(world, &newest, &want, &format!("{context}, newest"))?;
            for (note, item) in &newest {
                check_item(world, viewer, item, *note, &want, &context)?;
            }
            if asked == Some(Mode::Everyone) || asked.is_none() {
                let query = format!("{query}&order=reading");
                let reading = walk(world, client, book, &query, 3, &context).await?;
                compare_sets(world, &reading, &want, &format!("{context}, reading order"))?;
                // One passage alone.
                let passage = world.passages[book][0].0.as_str();
                let query = format!("&passage={passage}{query}");
                let one = walk(world, client, book, &query, 50, &context).await?;
                let want_one: BTreeSet<usize> = want
                    .iter()
                    .copied()
                    .filter(|&i| model.notes[i].passage == 0)
                    .collect();
                compare_sets(world, &one, &want_one, &format!("{context}, passage 0"))?;
                for (note, item) in &one {
                    check_item(world, viewer, item, *note, &want, &context)?;
                }
            }

            check_counts(world, client, book, &query, &want, &context).await?;
            if asked == Some(Mode::Everyone) || asked.is_none() {
                check_search(world, client, book, &query, &want, &context).await?;
            }

            // One chapter alone, listed and counted (replies are in their root's chapter).
            let chapter = world.passages[book][PASSAGES - 1].2;
            let want_chapter: BTreeSet<usize> = want
                .iter()
                .copied()
                .filter(|&i| world.passages[book][model.notes[i].passage].2 == chapter)
                .collect();
            let query = format!("{query}&chapter={chapter}");
            let context = format!("{context}, chapter {chapter}");
            let listed = walk(world, client, book, &query, 4, &context).await?;
            compare_sets(world, &listed, &want_chapter, &context)?;
            check_counts(world, client, book, &query, &want_chapter, &context).await?;
        }
    }

    if let Some(user) = viewer {
        check_export(world, client, user).await?;
        check_reports(world, client, user).await?;
        check_mutes(world, client, user).await?;
        check_notices(world, client, user).await?;
    }

    // Every note ever written, one by one: 200 exactly when the rule allows, after "my
    // reading first".
    for (i, n) in model.notes.iter().enumerate() {
        let may = model.fetchable(viewer, i);
        let id = &n.id;
        let (status, body) =
            call(client.get(world.app.url(&format!("/api/annotations/{id}")))).await;
        let context = format!(
            "{who}: GET note #{i} [{}]",
            describe(world, &BTreeSet::from([i]))
        );
        ensure!(
            status == if may { 200 } else { 404 },
            "{context}: oracle says {}, got {status} {body}",
            if may { "readable" } else { "hidden from them" }
        );
        if may {
            let readable = model.shown(viewer, n.book, None);
            check_item(world, viewer, &body, i, &readable, &context)?;
        }
    }
    Ok(())
}

pub async fn check_all(world: &World) -> Check {
    let viewers = (0..world.model.roles.len())
        .filter(|u| !world.model.gone.contains(u))
        .map(Some)
        .chain(std::iter::once(None));
    for viewer in viewers {
        check_viewer(world, viewer).await?;
    }
    // A deleted account is signed out everywhere.
    for &user in &world.model.gone {
        let (status, _) = call(world.clients[user].get(world.app.url("/api/me"))).await;
        ensure!(status == 401, "deleted u{user}: /api/me answered {status}");
    }
    Ok(())
}
