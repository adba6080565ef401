//! The annotations benchmark's in-process parts (driven by `bench/annotations`):
//!
//! - `seed --database-url URL`: fills an empty database with 50 books, 10,000 readers,
//!   1,000 groups and 1,000,000 annotations, and prints (as `KEY=value` lines) an API token
//!   for one typical reader plus a book and chapter with many notes on it;
//! - `raw --database-url URL --user ID --book ID --chapter N`: times `Store::margin`,
//!   the function `GET /api/books/{id}/annotations` calls, with the same arguments;
//! - `writes --url URL --token T --book ID --chapter N --group ID`: times creating notes
//!   through `POST /api/annotations` with several writers at once.
//!
//! - `cost --database-url URL --user ID`: times listings and counts in-process for every
//!   margin (none, groups, everyone, "my reading first", an anonymous visitor) on chapters
//!   of about 300, 3,000, 10,000 and 20,000 notes, beside how many of them the margin shows.
//! - `plans --database-url URL --user ID`: prints the plans of the same listings and counts
//!   and fails when one walks a whole chapter or reads the notes table whole.
//!
//! Run as `cargo bench --bench annotations -- COMMAND ...`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scholia::epub::Limits;
use scholia::import::{ImportOptions, Outcome, import_epub};
use scholia::store::annotations::{ListFilter, Order, ReaderMargin};
use scholia::store::preferences::{Margin, MarginMode, Preferences};
use scholia::store::testing::Rows;
use scholia::store::{Bind, Sql, Store};
use uuid::Uuid;

/// One value of a multi-row INSERT.
enum V {
    T(String),
    I(i64),
    B(bool),
    Null,
}

impl From<V> for Bind {
    fn from(v: V) -> Self {
        match v {
            V::T(t) => Bind::Text(Some(t)),
            V::I(n) => Bind::Int(Some(n)),
            V::B(b) => Bind::Bool(Some(b)),
            V::Null => Bind::Text(None),
        }
    }
}

fn insert(table: &'static str, columns: &'static [&'static str], rows: Vec<Vec<V>>) -> Rows {
    let values = rows
        .into_iter()
        .map(|row| row.into_iter().map(Bind::from).collect())
        .collect();
    Rows {
        table,
        columns,
        values,
    }
}

/// Runs the inserts in one transaction.
async fn run_all(store: &Store, statements: Vec<Rows>) -> anyhow::Result<()> {
    let mut tx = store.raw().begin().await?;
    for rows in statements {
        let table = rows.table;
        tx.insert_rows(rows)
            .await
            .with_context(|| format!("INSERT INTO {table}"))?;
    }
    tx.commit().await?;
    Ok(())
}

async fn exec(store: &Store, sql: &str, binds: &[&str]) -> anyhow::Result<()> {
    let mut query = Sql::new(sql);
    for b in binds {
        query = query.bind(*b);
    }
    store.raw().execute(query).await?;
    Ok(())
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn need(args: &[String], name: &str) -> anyhow::Result<String> {
    arg(args, name).with_context(|| format!("{name} is required"))
}

fn num(args: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    Ok(match arg(args, name) {
        Some(n) => n
            .parse()
            .with_context(|| format!("{name} takes a number"))?,
        None => default,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; skip it and anything before the command.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("seed") => seed(&args).await,
        Some("raw") => raw(&args).await,
        Some("writes") => writes(&args).await,
        Some("plans") => plans(&args).await,
        Some("cost") => cost(&args).await,
        // `cargo bench` with no command (say, all benches at once): nothing to do here.
        _ => {
            eprintln!("usage: annotations seed|raw|writes ... (see bench/annotations)");
            Ok(())
        }
    }
}

/// What the generator remembers about each note, to let later notes reply to it.
#[derive(Clone, Copy)]
struct Meta {
    id: Uuid,
    book: u16,
    passage: u32,
    author: u32,
    /// 0 private, 1 group, 2 public.
    audience: u8,
    group: u16,
    start: u32,
    end: u32,
}

struct Passage {
    id: String,
    chapter: i64,
    ordinal: i64,
    cfi: String,
    text: Vec<char>,
}

const WORDS: &[&str] = &[
    "the",
    "margin",
    "reader",
    "note",
    "*really*",
    "why",
    "compare",
    "chapter",
    "this",
    "echo",
    "image",
    "irony",
    "**key**",
    "see",
    "later",
    "whale",
    "sea",
    "voice",
    "narrator",
    "time",
    "question:",
    "theme",
    "motif",
    "`word`",
    "again",
    "structure",
    "rhythm",
    "tone",
    "ending",
];

async fn seed(args: &[String]) -> anyhow::Result<()> {
    let url = need(args, "--database-url")?;
    let n_books = num(args, "--books", 50)?;
    let n_users = num(args, "--users", 10_000)?;
    let n_groups = num(args, "--groups", 1_000)?;
    let n_notes = num(args, "--annotations", 1_000_000)?;
    let fixtures = arg(args, "--fixtures").unwrap_or_else(|| "fixtures/epub".into());
    let mut rng = StdRng::seed_from_u64(20_241_129);
    let started = Instant::now();

    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let existing: i64 = store
        .raw()
        .scalar(Sql::new("SELECT COUNT(*) FROM books"))
        .await?;
    if existing > 0 {
        bail!("{url} already holds books: seed an empty database");
    }

    // Books: every fixture imported for real, then copies (new id, title and hash; same
    // chapters, passages and resources) until there are `n_books`.
    let mut paths: Vec<_> = std::fs::read_dir(&fixtures)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "epub"))
        .collect();
    paths.sort();
    let mut originals = Vec::new();
    for path in &paths {
        let file = std::fs::File::open(path)?;
        match import_epub(&store, file, &Limits::default(), &ImportOptions::default()).await? {
            Outcome::Imported { id, .. } => originals.push(id),
            other => eprintln!("seed: {} not imported: {other:?}", path.display()),
        }
    }
    if originals.is_empty() {
        bail!("no fixture imported from {fixtures}");
    }
    let mut books = originals.clone();
    let mut copy = 0;
    while books.len() < n_books {
        let source = originals[copy % originals.len()].to_string();
        copy += 1;
        let id = Uuid::now_v7().to_string();
        let suffix = format!(" (copy {copy})");
        exec(
            &store,
            "INSERT INTO books (id, title, authors, language, identifiers, publisher, description,
                 published, cover, toc, content_hash, access, edition_of, search_key, imported_by,
                 created_at, content_version)
             SELECT $1, title || $3, authors, language, identifiers, publisher, description,
                 published, cover, toc, content_hash || $3, access, NULL, search_key || $3,
                 imported_by, created_at, content_version FROM books WHERE id = $2",
            &[&id, &source, &suffix],
        )
        .await?;
        for table in [
            "chapters (book_id, idx, idref, href, title, html) SELECT $1, idx, idref, href, title, html FROM chapters",
            "passages (book_id, id, chapter, ordinal, cfi, text, fingerprint) SELECT $1, id, chapter, ordinal, cfi, text, fingerprint FROM passages",
            "resources (book_id, path, media_type, sha256, data) SELECT $1, path, media_type, sha256, data FROM resources",
        ] {
            exec(
                &store,
                &format!("INSERT INTO {table} WHERE book_id = $2"),
                &[&id, &source],
            )
            .await?;
        }
        books.push(id.parse()?);
    }
    let mut passages: Vec<Vec<Passage>> = Vec::new();
    for book in &books {
        let rows: Vec<(String, i64, i64, String, String)> = {
            store
                .raw()
                .fetch_all(
                    Sql::new(
                        "SELECT id, chapter, ordinal, cfi, text FROM passages WHERE book_id = $1
                 ORDER BY chapter, ordinal",
                    )
                    .bind(book.to_string()),
                )
                .await
        }?;
        passages.push(
            rows.into_iter()
                .map(|(id, chapter, ordinal, cfi, text)| Passage {
                    id,
                    chapter,
                    ordinal,
                    cfi,
                    text: text.chars().collect(),
                })
                .filter(|p| !p.text.is_empty())
                .collect(),
        );
    }
    // Notes land on passages uniformly, so a book gets notes in proportion to its length.
    let all_passages: Vec<(u16, u32)> = passages
        .iter()
        .enumerate()
        .flat_map(|(b, ps)| (0..ps.len()).map(move |p| (b as u16, p as u32)))
        .collect();
    eprintln!(
        "seed: {} books ({} imported), {} passages, {:.1}s",
        books.len(),
        originals.len(),
        all_passages.len(),
        started.elapsed().as_secs_f64()
    );

    // Readers: one real password hash for all (argon2 is not what is measured here).
    let hash = scholia::passwords::hash_password("benchmark password")?;
    let now = scholia::store::now_micros();
    let users: Vec<Uuid> = (0..n_users).map(|_| Uuid::now_v7()).collect();
    let mut statements = Vec::new();
    for (chunk_no, chunk) in users.chunks(1000).enumerate() {
        let rows = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let n = chunk_no * 1000 + i;
                vec![
                    V::T(id.to_string()),
                    V::T(format!("reader{n}")),
                    V::T(format!("Reader {n}")),
                    V::T(hash.clone()),
                    V::T("reader".into()),
                    V::I(now),
                ]
            })
            .collect();
        statements.push(insert(
            "users",
            &[
                "id",
                "username",
                "display_name",
                "password_hash",
                "role",
                "created_at",
            ],
            rows,
        ));
    }
    run_all(&store, std::mem::take(&mut statements)).await?;

    // Groups, and memberships: each reader in 1 to 5 groups (3 on average, ~30 per group).
    let groups: Vec<Uuid> = (0..n_groups).map(|_| Uuid::now_v7()).collect();
    let mut member_of: Vec<Vec<u16>> = vec![Vec::new(); n_users];
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_groups];
    for (u, mine) in member_of.iter_mut().enumerate() {
        let k = rng.gen_range(1..=5);
        while mine.len() < k {
            let g = rng.gen_range(0..n_groups) as u16;
            if !mine.contains(&g) {
                mine.push(g);
                members[g as usize].push(u as u32);
            }
        }
    }
    let mut statements = Vec::new();
    for (chunk_no, chunk) in groups.chunks(1000).enumerate() {
        let rows = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let g = chunk_no * 1000 + i;
                vec![
                    V::T(id.to_string()),
                    V::T(format!("Study group {g}")),
                    V::B(g % 10 == 0),
                    V::I(now),
                ]
            })
            .collect();
        statements.push(insert(
            "groups",
            &["id", "name", "open", "created_at"],
            rows,
        ));
    }
    let mut membership_rows = Vec::new();
    for (g, list) in members.iter().enumerate() {
        for (i, u) in list.iter().enumerate() {
            let role = match i {
                0 => "owner",
                1 | 2 => "facilitator",
                _ => "member",
            };
            membership_rows.push(vec![
                V::T(groups[g].to_string()),
                V::T(users[*u as usize].to_string()),
                V::T(role.into()),
                V::I(now),
            ]);
        }
    }
    let n_memberships = membership_rows.len();
    let mut rows_iter = membership_rows.into_iter().peekable();
    while rows_iter.peek().is_some() {
        let chunk: Vec<_> = rows_iter.by_ref().take(1000).collect();
        statements.push(insert(
            "memberships",
            &["group_id", "user_id", "role", "joined_at"],
            chunk,
        ));
    }
    run_all(&store, std::mem::take(&mut statements)).await?;
    // A few books are for signed-in readers or for some groups only.
    for (i, book) in books.iter().enumerate().skip(originals.len()) {
        if i % 10 == 3 {
            exec(
                &store,
                "UPDATE books SET access = 'signed_in' WHERE id = $1",
                &[&book.to_string()],
            )
            .await?;
        } else if i % 10 == 7 {
            exec(
                &store,
                "UPDATE books SET access = 'groups' WHERE id = $1",
                &[&book.to_string()],
            )
            .await?;
            for g in 0..20 {
                let group = groups[(i * 20 + g) % n_groups].to_string();
                exec(
                    &store,
                    "INSERT INTO book_groups (book_id, group_id) VALUES ($1, $2)",
                    &[&book.to_string(), &group],
                )
                .await?;
            }
        }
    }
    eprintln!(
        "seed: {n_users} readers, {n_groups} groups, {n_memberships} memberships, {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // Annotations: 50% private, 30% to one of the author's groups, 20% public; ~10% are
    // replies (to any earlier note, replies included) that keep their parent's audience;
    // ~60% carry a body. Times run over the past year in insertion order, as the service
    // writes them (UUIDv7 ids from the same clock).
    let bodies: Vec<(String, String)> = (0..400)
        .map(|_| {
            let n = rng.gen_range(3..60);
            let text = (0..n)
                .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ");
            let html = scholia::markdown::render(&text);
            (text, html)
        })
        .collect();
    let colors = ["yellow", "green", "blue", "pink"];
    let tags = ["theme", "question", "vocabulary", "exam", "favourite"];
    let columns: &'static [&str] = &[
        "id",
        "book_id",
        "author_id",
        "passage_id",
        "chapter",
        "ordinal",
        "start_pos",
        "end_pos",
        "exact",
        "prefix",
        "suffix",
        "cfi",
        "motivation",
        "body",
        "body_html",
        "tags",
        "color",
        "audience",
        "group_id",
        "reply_to",
        "hidden",
        "deleted",
        "anonymous",
        "written_blind",
        "created_at",
        "updated_at",
    ];
    let year = 365 * 24 * 3600 * 1_000_000i64;
    let first = now - year;
    let step = year / n_notes.max(1) as i64;
    let mut metas: Vec<Meta> = Vec::with_capacity(n_notes);
    let book_ids: Vec<String> = books.iter().map(Uuid::to_string).collect();
    let user_ids: Vec<String> = users.iter().map(Uuid::to_string).collect();
    let group_ids: Vec<String> = groups.iter().map(Uuid::to_string).collect();
    let (mut replies, mut tagged) = (0usize, 0usize);
    let per_statement: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let per_transaction = 50;
    let mut done = 0;
    while done < n_notes {
        let mut statements = Vec::new();
        let mut tag_rows = Vec::new();
        for _ in 0..per_transaction {
            if done >= n_notes {
                break;
            }
            let mut rows = Vec::with_capacity(per_statement);
            for _ in 0..per_statement.min(n_notes - done) {
                let created = first + done as i64 * step + rng.gen_range(0..step.max(1));
                let secs = (created / 1_000_000) as u64;
                let nanos = ((created % 1_000_000) * 1000) as u32;
                let id = Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos));
                let reply = !metas.is_empty() && rng.gen_bool(0.10);
                let (meta, reply_to) = if reply {
                    let parent = metas[rng.gen_range(0..metas.len())];
                    let author = match parent.audience {
                        0 => parent.author,
                        1 => {
                            let list = &members[parent.group as usize];
                            list[rng.gen_range(0..list.len())]
                        }
                        _ => rng.gen_range(0..n_users) as u32,
                    };
                    replies += 1;
                    let meta = Meta {
                        id,
                        author,
                        ..parent
                    };
                    (meta, Some(parent.id))
                } else {
                    let (book, passage) = all_passages[rng.gen_range(0..all_passages.len())];
                    let author = rng.gen_range(0..n_users) as u32;
                    let audience = match rng.gen_range(0..10) {
                        0..=4 => 0,
                        5..=7 => 1,
                        _ => 2,
                    };
                    let mine = &member_of[author as usize];
                    let group = mine[rng.gen_range(0..mine.len())];
                    let len = passages[book as usize][passage as usize].text.len() as u32;
                    let start = rng.gen_range(0..len);
                    let end = (start + rng.gen_range(1..=80)).min(len);
                    let meta = Meta {
                        id,
                        book,
                        passage,
                        author,
                        audience,
                        group,
                        start,
                        end,
                    };
                    (meta, None)
                };
                metas.push(meta);
                let p = &passages[meta.book as usize][meta.passage as usize];
                let (s, e) = (meta.start as usize, meta.end as usize);
                let exact: String = p.text[s..e].iter().collect();
                let prefix: String = p.text[s.saturating_sub(32)..s].iter().collect();
                let suffix: String = p.text[e..(e + 32).min(p.text.len())].iter().collect();
                let body = if reply || rng.gen_bool(0.6) {
                    Some(&bodies[rng.gen_range(0..bodies.len())])
                } else {
                    None
                };
                let motivation = match (reply, body.is_some()) {
                    (true, _) => "replying",
                    (false, true) => "commenting",
                    (false, false) if rng.gen_bool(0.05) => "bookmarking",
                    _ => "highlighting",
                };
                let tag = (!reply && rng.gen_bool(0.1)).then(|| tags[rng.gen_range(0..tags.len())]);
                if let Some(tag) = tag {
                    tagged += 1;
                    tag_rows.push(vec![V::T(id.to_string()), V::T(tag.into())]);
                }
                let audience = ["private", "group", "public"][meta.audience as usize];
                let hidden = meta.audience > 0 && rng.gen_bool(0.003);
                rows.push(vec![
                    V::T(id.to_string()),
                    V::T(book_ids[meta.book as usize].clone()),
                    V::T(user_ids[meta.author as usize].clone()),
                    V::T(p.id.clone()),
                    V::I(p.chapter),
                    V::I(p.ordinal),
                    V::I(s as i64),
                    V::I(e as i64),
                    V::T(exact),
                    V::T(prefix),
                    V::T(suffix),
                    V::T(p.cfi.clone()),
                    V::T(motivation.into()),
                    body.map_or(V::Null, |b| V::T(b.0.clone())),
                    body.map_or(V::Null, |b| V::T(b.1.clone())),
                    V::T(tag.map_or("[]".into(), |t| format!("[\"{t}\"]"))),
                    if motivation == "highlighting" {
                        V::T(colors[rng.gen_range(0..colors.len())].into())
                    } else {
                        V::Null
                    },
                    V::T(audience.into()),
                    if meta.audience == 1 {
                        V::T(group_ids[meta.group as usize].clone())
                    } else {
                        V::Null
                    },
                    reply_to.map_or(V::Null, |r| V::T(r.to_string())),
                    V::B(hidden),
                    V::B(false),
                    V::B(rng.gen_bool(0.01)),
                    V::B(false),
                    V::I(created),
                    V::I(created),
                ]);
                done += 1;
            }
            statements.push(insert("annotations", columns, rows));
        }
        let mut chunk = tag_rows.into_iter().peekable();
        while chunk.peek().is_some() {
            let rows: Vec<_> = chunk.by_ref().take(1000).collect();
            statements.push(insert("annotation_tags", &["annotation_id", "tag"], rows));
        }
        run_all(&store, std::mem::take(&mut statements)).await?;
        if done % 200_000 == 0 || done == n_notes {
            eprintln!(
                "seed: {done} annotations, {:.1}s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!("seed: {replies} replies, {tagged} tagged");
    if !store.raw().is_sqlite() {
        // What autovacuum would do shortly after a bulk load.
        exec(&store, "ANALYZE", &[]).await?;
    }

    // One typical reader: in three groups, with notes of their own; they show everyone's
    // notes in their margin (so the listing has the most to decide).
    let viewer = (n_users / 2..n_users)
        .chain(0..n_users / 2)
        .find(|&u| member_of[u].len() == 3)
        .unwrap_or(0);
    let viewer_id = users[viewer];
    let preferences = Preferences {
        account: Margin {
            margin: MarginMode::Everyone,
            my_reading_first: false,
        },
        show_written_blind: false,
        books: BTreeMap::new(),
    };
    store.set_preferences(viewer_id, &preferences).await?;
    let (_, token) = store.create_token(viewer_id, "benchmark").await?;
    // The chapter to load: the 99th percentile of public books' chapters by notes, so "a
    // chapter with many notes" without being the one book whose whole text is one chapter.
    let chapters: Vec<(String, i64, i64)> = store
        .raw()
        .fetch_all(Sql::new(
            "SELECT a.book_id, a.chapter, COUNT(*) AS n FROM annotations a
         JOIN books b ON b.id = a.book_id WHERE b.access = 'public'
         GROUP BY a.book_id, a.chapter ORDER BY n, a.book_id, a.chapter",
        ))
        .await?;
    let at =
        |p: f64| chapters[((chapters.len() as f64 * p) as usize).min(chapters.len() - 1)].clone();
    let (book, chapter, notes) = at(0.99);
    eprintln!(
        "seed: {} chapters with notes; notes per chapter: median {}, p90 {}, p99 {}, max {}; done in {:.1}s",
        chapters.len(),
        at(0.5).2,
        at(0.9).2,
        notes,
        at(1.0).2,
        started.elapsed().as_secs_f64()
    );
    println!("BENCH_TOKEN={token}");
    println!("BENCH_USER={viewer_id}");
    println!("BENCH_BOOK={book}");
    println!("BENCH_CHAPTER={chapter}");
    println!("BENCH_CHAPTER_NOTES={notes}");
    println!("BENCH_GROUP={}", groups[member_of[viewer][0] as usize]);
    println!("SEED_SECONDS={:.1}", started.elapsed().as_secs_f64());
    Ok(())
}

/// The `p`th percentile (0..=1) of sorted `samples`, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

async fn raw(args: &[String]) -> anyhow::Result<()> {
    let store = Store::connect(&need(args, "--database-url")?).await?;
    let user: Uuid = need(args, "--user")?.parse()?;
    let book: Uuid = need(args, "--book")?.parse()?;
    let chapter: i64 = need(args, "--chapter")?.parse()?;
    let n = num(args, "--n", 200)?;
    let viewer = store.user_by_id(user).await?.context("no such user")?;
    // As the handler does: the reader's stored margin for this book (resolved inside the
    // listing's query), the default page of 50.
    let margin = ReaderMargin::default();
    let filter = ListFilter {
        chapter: Some(chapter),
        order: Order::Newest,
        limit: num(args, "--limit", 50)? as i64,
        ..ListFilter::default()
    };
    let mut rows = 0;
    for _ in 0..10 {
        rows = store
            .margin(Some(&viewer), book, &filter, margin)
            .await?
            .len();
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let got = store.margin(Some(&viewer), book, &filter, margin).await?;
        samples.push(t.elapsed());
        std::hint::black_box(got);
    }
    samples.sort();
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1000.0 / n as f64;
    println!("RAW_ROWS={rows}");
    println!("RAW_P50_MS={:.2}", percentile(&samples, 0.50));
    println!("RAW_P99_MS={:.2}", percentile(&samples, 0.99));
    println!("RAW_MEAN_MS={mean:.2}");
    Ok(())
}

async fn writes(args: &[String]) -> anyhow::Result<()> {
    let url = need(args, "--url")?;
    let token = need(args, "--token")?;
    let book = need(args, "--book")?;
    let chapter = need(args, "--chapter")?;
    let group = need(args, "--group")?;
    let n = num(args, "--n", 2000)?;
    let concurrency = num(args, "--concurrency", 32)?;
    let client = reqwest::Client::new();
    let page: serde_json::Value = client
        .get(format!(
            "{url}/api/books/{book}/passages?chapter={chapter}&limit=1000"
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let passages: Vec<(String, String)> = page["items"]
        .as_array()
        .context("no passages")?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?.to_owned(), p["text"].as_str()?.to_owned())))
        .filter(|(_, text)| !text.is_empty())
        .collect();
    if passages.is_empty() {
        bail!("chapter {chapter} of {book} has no passages");
    }
    let passages = Arc::new(passages);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, token, book, group) = (
            client.clone(),
            url.clone(),
            token.clone(),
            book.clone(),
            group.clone(),
        );
        let (passages, next) = (passages.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let (passage, text) = &passages[i % passages.len()];
                let chars: Vec<char> = text.chars().collect();
                let start = (i * 7) % chars.len();
                let end = (start + 12).min(chars.len());
                let exact: String = chars[start..end].iter().collect();
                let audience = match i % 10 {
                    0..=4 => serde_json::json!("private"),
                    5..=7 => serde_json::json!({ "group": group }),
                    _ => serde_json::json!("public"),
                };
                let body = serde_json::json!({
                    "book_id": book, "passage_id": passage, "start": start, "end": end,
                    "exact": exact, "body": format!("Benchmark note {i}: *why* here?"),
                    "audience": audience,
                });
                let t = Instant::now();
                let response = client
                    .post(format!("{url}/api/annotations"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    Ok(r) => {
                        if errors == 0 {
                            eprintln!(
                                "writes: {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                        errors += 1;
                    }
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("writes: {e}");
                        }
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!("WRITES_OK={}", latencies.len());
    println!("WRITES_ERRORS={errors}");
    println!("WRITES_PER_S={:.0}", latencies.len() as f64 / elapsed);
    println!("WRITE_P50_MS={:.2}", percentile(&latencies, 0.50));
    println!("WRITE_P99_MS={:.2}", percentile(&latencies, 0.99));
    Ok(())
}

/// The readers each margin check runs as: a name, whether signed in as the benchmark's
/// reader, the margin asked for, and their "my reading first".
const READERS: &[(&str, bool, MarginMode, bool)] = &[
    ("none", true, MarginMode::None, false),
    ("groups", true, MarginMode::Groups, false),
    ("everyone", true, MarginMode::Everyone, false),
    (
        "everyone, my reading first",
        true,
        MarginMode::Everyone,
        true,
    ),
    (
        "anonymous, groups (default)",
        false,
        MarginMode::Groups,
        false,
    ),
    ("anonymous, everyone", false, MarginMode::Everyone, false),
];

/// Public books' chapters nearest each size of `sizes`, as `(book, chapter, notes)`, so that
/// every margin, the anonymous visitor's too, may read them.
async fn chapters_near(store: &Store, sizes: &[i64]) -> anyhow::Result<Vec<(Uuid, i64, i64)>> {
    let chapters: Vec<(String, i64, i64)> = store
        .raw()
        .fetch_all(Sql::new(
            "SELECT a.book_id, a.chapter, COUNT(*) FROM annotations a \
             JOIN books b ON b.id = a.book_id WHERE b.access = 'public' \
             GROUP BY a.book_id, a.chapter",
        ))
        .await?;
    sizes
        .iter()
        .map(|size| {
            let (book, chapter, notes) = chapters
                .iter()
                .min_by_key(|(_, _, notes)| (notes - size).abs())
                .context("no notes on public books")?;
            Ok((book.parse()?, *chapter, *notes))
        })
        .collect()
}

/// Sets the reader's account-wide margin to `mode` and "my reading first" to `first`.
async fn prefer(
    store: &Store,
    user: Uuid,
    saved: &Preferences,
    mode: MarginMode,
    first: bool,
) -> anyhow::Result<()> {
    let preferences = Preferences {
        account: Margin {
            margin: mode,
            my_reading_first: first,
        },
        books: BTreeMap::new(),
        ..saved.clone()
    };
    Ok(store.set_preferences(user, &preferences).await?)
}

/// The indexes that walk every note of a chapter (or a book) in order: a margin that reads
/// one of them reads notes its reader may not see.
const WALKS: &[&str] = &[
    "annotations_chapter_newest",
    "annotations_reading",
    "annotations_book_newest",
];

/// Whether a plan line reads the notes table whole or along a walk of a chapter. The
/// aliases are the notes table's in the listing and the rule's subqueries.
fn walks(line: &str) -> bool {
    let line = line.trim_start_matches([' ', '-', '>']);
    WALKS.iter().any(|index| line.contains(index))
        || line.contains("Seq Scan on annotations")
        || ["s", "r", "up", "dn", "mine"].iter().any(|alias| {
            line == format!("SCAN {alias}") || line.starts_with(&format!("SCAN {alias} "))
        })
}

/// `plans --database-url URL --user ID`: the plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
/// PostgreSQL) of a listing's first page and of the counts, for every margin and the
/// anonymous visitor, on the public chapters with the most and with about 300 notes. Fails
/// when any of them reads the notes table whole or walks a chapter's index, which is the
/// regression that makes a margin cost what its reader may not see.
async fn plans(args: &[String]) -> anyhow::Result<()> {
    let store = Store::connect(&need(args, "--database-url")?).await?;
    let user: Uuid = need(args, "--user")?.parse()?;
    let reader = store.user_by_id(user).await?.context("no such user")?;
    let saved = store.preferences(user).await?;
    let mut walked = Vec::new();
    for (book, chapter, notes) in chapters_near(&store, &[300, i64::MAX]).await? {
        for &(name, signed_in, mode, first) in READERS {
            prefer(&store, user, &saved, mode, first).await?;
            let viewer = signed_in.then_some(&reader);
            let margin = ReaderMargin { asked: Some(mode) };
            let plans = store.margin_plans(viewer, book, chapter, margin).await?;
            for (query, plan) in ["listing", "counts"].iter().zip(&plans) {
                println!("-- {name}, {query}, chapter of {notes} notes\n{plan}\n");
                if plan.lines().any(walks) {
                    walked.push(format!("{name}, {query}, chapter of {notes} notes"));
                }
            }
        }
    }
    store.set_preferences(user, &saved).await?;
    if !walked.is_empty() {
        bail!("these plans walk a chapter or the notes table: {walked:?}");
    }
    println!("PLANS_OK=1");
    Ok(())
}

/// The median of `n` timed runs of `run`, in milliseconds.
async fn median_ms<F, Fut, T>(n: usize, mut run: F) -> anyhow::Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    run().await?;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(run().await?);
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok(percentile(&samples, 0.50))
}

async fn cost(args: &[String]) -> anyhow::Result<()> {
    let store = Store::connect(&need(args, "--database-url")?).await?;
    let user: Uuid = need(args, "--user")?.parse()?;
    let n = num(args, "--n", 20)?;
    let reader = store.user_by_id(user).await?.context("no such user")?;
    let saved = store.preferences(user).await?;
    println!(
        "| notes in chapter | margin | shown | listing newest ms | listing reading ms | counts ms | counts µs per shown note |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for (book, chapter, notes) in chapters_near(&store, &[300, 3_000, 10_000, 20_000]).await? {
        let chapter = &chapter;
        for &(name, signed_in, asked, first) in READERS {
            prefer(&store, user, &saved, asked, first).await?;
            let viewer = signed_in.then_some(&reader);
            let margin = ReaderMargin { asked: Some(asked) };
            let list = |order| {
                let store = &store;
                let filter = ListFilter {
                    chapter: Some(*chapter),
                    order,
                    limit: 50,
                    ..ListFilter::default()
                };
                move || {
                    let filter = filter.clone();
                    async move { Ok(store.margin(viewer, book, &filter, margin).await?) }
                }
            };
            let newest = median_ms(n, list(Order::Newest)).await?;
            let reading = median_ms(n, list(Order::Reading)).await?;
            let counts = || async {
                Ok(store
                    .annotation_counts(viewer, book, Some(*chapter), margin)
                    .await?)
            };
            let counted = counts().await?;
            let shown: i64 = counted.iter().map(|(_, shown, _)| shown).sum();
            let counts_ms = median_ms(n, counts).await?;
            println!(
                "| {notes} | {name} | {shown} | {newest:.2} | {reading:.2} | {counts_ms:.2} | {:.1} |",
                counts_ms * 1000.0 / shown.max(1) as f64
            );
        }
    }
    store.set_preferences(user, &saved).await?;
    Ok(())
}
