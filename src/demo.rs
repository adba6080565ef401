//! `scholia serve --demo`: a first run that shows the product. On an empty database it
//! imports small public-domain books embedded in the binary, creates two readers with random
//! passwords in a study group, and writes a few of their notes on Alice, each audience once
//! or more, through the same import and store paths as the API.

use uuid::Uuid;

use crate::anchor::{Anchor, anchor_in};
use crate::epub::Limits;
use crate::import::{ImportOptions, Outcome, import_epub};
use crate::passwords::{hash_password, random_secret};
use crate::store::Store;
use crate::store::annotations::{Audience, NewAnnotation};
use crate::store::groups::GroupFields;
use crate::store::now_micros;
use crate::store::users::{NewUser, Role, User};

/// The books, by file name (fixtures/SOURCES.md has their sources): public domain only, as
/// the binary carries them.
const BOOKS: [(&str, &[u8]); 2] = [
    ("alice.epub", include_bytes!("../fixtures/epub/alice.epub")),
    (
        "metamorphosis-epub2.epub",
        include_bytes!("../fixtures/epub/metamorphosis-epub2.epub"),
    ),
];

pub const GROUP_NAME: &str = "Demo reading circle";

/// A demo account and the password it was given.
pub struct DemoReader {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// What the demo seeded.
pub struct Demo {
    pub books: Vec<(Uuid, String)>,
    pub readers: Vec<DemoReader>,
    pub group: Uuid,
}

/// Seeds an empty database; None (and nothing written) when it holds any account, book or
/// group.
pub async fn seed(store: &Store, limits: &Limits) -> anyhow::Result<Option<Demo>> {
    if !store.is_empty().await? {
        return Ok(None);
    }
    let mut books = Vec::new();
    for (name, bytes) in BOOKS {
        match import_epub(store, bytes, limits, &ImportOptions::default()).await? {
            Outcome::Imported { id, title, .. } => books.push((id, title)),
            other => anyhow::bail!("demo book {name} was not imported: {other:?}"),
        }
    }
    let (ada, ada_login) = reader(store, "ada", "Ada").await?;
    let (basil, basil_login) = reader(store, "basil", "Basil").await?;
    let group = store
        .create_group(
            ada.id,
            GroupFields {
                name: Some(GROUP_NAME.to_owned()),
                description: Some("Ada and Basil read Alice together.".to_owned()),
                rules: Some(
                    "Be kind. Quote the passage you mean. What is said in the circle stays in the circle."
                        .to_owned(),
                ),
                open: Some(false),
            },
        )
        .await?;
    let invite = store
        .create_invite(
            group.id,
            ada.id,
            Some(now_micros() + 3_600_000_000),
            Some(1),
        )
        .await?;
    store.join_with_invite(&invite.code, basil.id).await?;
    write_notes(store, books[0].0, group.id, &ada, &basil).await?;
    Ok(Some(Demo {
        books,
        readers: vec![ada_login, basil_login],
        group: group.id,
    }))
}

async fn reader(
    store: &Store,
    username: &str,
    display_name: &str,
) -> anyhow::Result<(User, DemoReader)> {
    let password = random_secret("")[..16].to_owned();
    let secret = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&secret)).await??;
    let user = store
        .create_user(NewUser {
            username,
            display_name,
            password_hash: &password_hash,
            role: Role::Reader,
        })
        .await?;
    let login = DemoReader {
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        password,
    };
    Ok((user, login))
}

/// The notes on Alice: who writes what, on which words, for whom.
async fn write_notes(
    store: &Store,
    alice: Uuid,
    group: Uuid,
    ada: &User,
    basil: &User,
) -> anyhow::Result<()> {
    let circle = Audience::Group(group);
    let notes = [
        (
            ada,
            "pictures or conversations",
            Audience::Public,
            "The whole book answers her: it is nothing *but* pictures and conversations.",
        ),
        (
            ada,
            "Curiouser and curiouser",
            Audience::Private,
            "Carroll breaks grammar on purpose here. Use it in my essay on nonsense.",
        ),
        (
            basil,
            "Who are you?",
            Audience::Public,
            "The question of the whole book, asked by a caterpillar.",
        ),
        (
            basil,
            "we're all mad here",
            circle.clone(),
            "Is the Cat right? Bring one example for Thursday.",
        ),
        (
            basil,
            "why your cat grins",
            Audience::Private,
            "Look up whether \"grin like a Cheshire cat\" is older than Carroll.",
        ),
    ];
    for (author, quote, audience, body) in notes {
        let anchor = anchor_on(store, alice, quote).await?;
        store
            .insert_annotation(author.id, note(alice, anchor, audience, body, None))
            .await?;
    }
    // A thread in the circle: Ada asks, Basil answers.
    let question = anchor_on(store, alice, "DRINK ME").await?;
    let asked = store
        .insert_annotation(
            ada.id,
            note(
                alice,
                question.clone(),
                circle.clone(),
                "Why does she check for poison first? Discuss on Thursday.",
                None,
            ),
        )
        .await?;
    store
        .insert_annotation(
            basil.id,
            note(
                alice,
                question,
                circle,
                "Because she had read \"several nice little histories\" about children who didn't.",
                Some(asked),
            ),
        )
        .await?;
    Ok(())
}

fn note(
    book: Uuid,
    anchor: Anchor,
    audience: Audience,
    body: &str,
    reply_to: Option<Uuid>,
) -> NewAnnotation {
    NewAnnotation {
        book_id: book,
        passage_id: anchor.passage_id,
        chapter: anchor.chapter,
        ordinal: anchor.ordinal,
        start: anchor.start,
        end: anchor.end,
        exact: anchor.exact,
        prefix: anchor.prefix,
        suffix: anchor.suffix,
        cfi: anchor.cfi,
        motivation: if reply_to.is_some() {
            "replying"
        } else {
            "commenting"
        }
        .to_owned(),
        body: Some(body.to_owned()),
        tags: Vec::new(),
        color: None,
        audience,
        reply_to,
        written_blind: false,
    }
}

/// The anchor of the first occurrence of `quote` in the book, in reading order.
async fn anchor_on(store: &Store, book: Uuid, quote: &str) -> anyhow::Result<Anchor> {
    let mut after = None;
    loop {
        let passages = store.passages(book, None, after, 500).await?;
        let Some(last) = passages.last() else {
            anyhow::bail!("the demo quote {quote:?} is in no passage");
        };
        after = Some((last.chapter, last.ordinal));
        if let Some(passage) = passages.into_iter().find(|p| p.text.contains(quote)) {
            let byte = passage.text.find(quote).unwrap_or_default();
            let start = passage.text[..byte].chars().count() as i64;
            let end = start + quote.chars().count() as i64;
            return Ok(anchor_in(passage, start, end));
        }
    }
}
