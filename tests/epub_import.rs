//! Every fixture EPUB imports; passages agree with the sanitized chapters as a browser parses
//! them; nothing active or remote survives sanitizing; parsing is deterministic and
//! independent of zip packing.

use crate::common::fixture;
use crate::tree::{self, collapse_whitespace};

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};

use std::path::PathBuf;
use zip::write::SimpleFileOptions;

use scholia::epub::{Limits, ParsedBook, parse};

const BASE: &str = "/api/books/test";

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/epub");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "epub"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn parse_fixture(name: &str, bytes: &[u8]) -> ParsedBook {
    parse(bytes, &Limits::default(), BASE).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Whether `html` has `needle` as the start of a URL value of an attribute that loads
/// something (not `<a href>`), or in a CSS `url(`/`@import`.
fn remote_loads(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    for attr in [
        "src=\"",
        "srcset=\"",
        "poster=\"",
        "url(",
        "url(\"",
        "url('",
        "@import \"",
        "@import '",
    ] {
        for scheme in ["http:", "https:", "//"] {
            let pattern = format!("{attr}{scheme}");
            if let Some(at) = lower.find(&pattern) {
                found.push(lower[at..(at + 80).min(lower.len())].to_owned());
            }
        }
    }
    // A stylesheet link may only point at the book's resources.
    for (at, _) in lower.match_indices("<link") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap_or(lower.len() - at)];
        if tag.contains("href=\"http") || tag.contains("href=\"//") {
            found.push(tag.to_owned());
        }
    }
    found
}

fn assert_inert(what: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{what}: <script");
    assert!(!lower.contains("javascript:"), "{what}: javascript:");
    // An event handler is an attribute inside a tag: whitespace, `on`, letters, `=`.
    for tag in lower.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        for (at, _) in tag.match_indices("on") {
            let before = tag[..at].chars().last();
            let rest = &tag[at + 2..];
            let name_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
            assert!(
                !(before.is_some_and(char::is_whitespace)
                    && name_len > 0
                    && rest[name_len..].trim_start().starts_with('=')),
                "{what}: event handler in <{tag}>"
            );
        }
    }
    let remote = remote_loads(html);
    assert!(remote.is_empty(), "{what}: remote loads {remote:?}");
}

#[test]
fn every_fixture_imports_with_consistent_inert_chapters() {
    for (name, bytes) in fixtures() {
        let book = parse_fixture(&name, &bytes);
        assert!(!book.metadata.title.is_empty(), "{name}: title");
        assert!(!book.chapters.is_empty(), "{name}: chapters");
        for chapter in &book.chapters {
            let what = format!("{name} chapter {} ({})", chapter.index, chapter.href);
            let parsed = tree::parse(&chapter.html);
            assert_eq!(
                tree::serialize(&parsed),
                chapter.html,
                "{what}: a browser's parse of the chapter is not what was sanitized"
            );
            tree::assert_inert(&what, &parsed, BASE);
            let marked: HashMap<String, String> = tree::passages(&parsed).into_iter().collect();
            assert_eq!(
                marked.len(),
                chapter.passages.len(),
                "{what}: marked elements"
            );
            for (ordinal, passage) in chapter.passages.iter().enumerate() {
                assert_eq!(passage.ordinal, ordinal, "{what}");
                assert_eq!(passage.chapter, chapter.index, "{what}");
                assert_eq!(
                    passage.id,
                    format!("c{}p{}", chapter.index, ordinal),
                    "{what}"
                );
                assert!(
                    !passage.text.is_empty() && passage.text == collapse_whitespace(&passage.text),
                    "{what}"
                );
                assert_eq!(
                    marked.get(&passage.id),
                    Some(&passage.text),
                    "{what}: {} reads otherwise in the browser's tree",
                    passage.id
                );
            }
        }
        for resource in &book.resources {
            if resource.media_type == "text/css"
                || resource.media_type.contains("svg")
                || resource.media_type.contains("html")
            {
                assert_inert(
                    &format!("{name} resource {}", resource.path),
                    &String::from_utf8_lossy(&resource.data),
                );
            }
        }
        assert_eq!(book.content_hash.len(), 64, "{name}");
    }
}

/// The archive's entries, re-zipped in reverse order with different compression.
fn rezip(bytes: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        entries.push((entry.name().unwrap().into_owned(), entry.is_dir(), data));
    }
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    // The mimetype stays first and stored, as EPUB requires; the rest change order and method.
    entries.sort_by_key(|(name, _, _)| name != "mimetype");
    entries[1..].reverse();
    for (name, is_dir, data) in entries {
        if is_dir {
            out.add_directory(name, stored).unwrap();
        } else {
            out.start_file(
                name.clone(),
                if name == "mimetype" { stored } else { deflated },
            )
            .unwrap();
            out.write_all(&data).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

fn snapshot(book: &ParsedBook) -> Vec<(String, String, String, String)> {
    book.chapters
        .iter()
        .flat_map(|c| &c.passages)
        .map(|p| {
            (
                p.id.clone(),
                p.cfi.clone(),
                p.text.clone(),
                p.fingerprint.clone(),
            )
        })
        .collect()
}

#[test]
fn parsing_is_deterministic_and_ignores_zip_packing() {
    for name in [
        "alice.epub",
        "metamorphosis-epub2.epub",
        "internallinks.epub",
        "wasteland.epub",
    ] {
        let bytes = fixture(name);
        let first = parse_fixture(name, &bytes);
        let second = parse_fixture(name, &bytes);
        assert_eq!(snapshot(&first), snapshot(&second), "{name}");
        assert_eq!(first.content_hash, second.content_hash, "{name}");
        let chapters = |b: &ParsedBook| {
            b.chapters
                .iter()
                .map(|c| c.html.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(chapters(&first), chapters(&second), "{name}");
        let rezipped = rezip(&bytes);
        assert_ne!(rezipped, bytes, "{name}: the copy differs as bytes");
        let copy = parse_fixture(name, &rezipped);
        assert_eq!(copy.content_hash, first.content_hash, "{name}");
        assert_eq!(snapshot(&copy), snapshot(&first), "{name}");
    }
}

#[test]
fn metadata_toc_and_cover() {
    let alice = parse_fixture("alice.epub", &fixture("alice.epub"));
    assert_eq!(alice.metadata.title, "Alice's Adventures in Wonderland");
    assert!(!alice.metadata.authors.is_empty());
    assert_eq!(alice.metadata.language.as_deref(), Some("en-US"));
    assert!(alice.cover.is_some());
    assert!(alice.toc.iter().any(|e| e.chapter.is_some()));
    assert!(alice.chapters.iter().any(|c| c.title.is_some()));
    // EPUB 2 with only an NCX.
    let meta = parse_fixture(
        "metamorphosis-epub2.epub",
        &fixture("metamorphosis-epub2.epub"),
    );
    assert_eq!(meta.metadata.title, "Metamorphosis");
    assert!(
        meta.toc.len() > 1 && meta.toc.iter().all(|e| e.chapter.is_some()),
        "{:?}",
        meta.toc
    );
    // Nested EPUB 3 nav.
    let accessible = parse_fixture("accessible_epub_3.epub", &fixture("accessible_epub_3.epub"));
    assert!(accessible.toc.iter().any(|e| !e.children.is_empty()));
    // Internal links and resources point where the book is served.
    let links = parse_fixture("internallinks.epub", &fixture("internallinks.epub"));
    let html: String = links.chapters.iter().map(|c| c.html.as_str()).collect();
    assert!(
        html.contains(&format!("href=\"{BASE}/chapters/")),
        "chapter links rewritten"
    );
    assert!(
        html.contains(&format!("{BASE}/resources/")),
        "resources rewritten"
    );
}
