//! Every fixture EPUB imports; passages agree with the sanitized chapters; nothing active or
//! remote survives sanitizing; parsing is deterministic and independent of zip packing.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

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
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn parse_fixture(name: &str, bytes: &[u8]) -> ParsedBook {
    parse(bytes, &Limits::default(), BASE).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn stats() {
    for (name, bytes) in fixtures() {
        let book = parse_fixture(&name, &bytes);
        let passages: usize = book.chapters.iter().map(|c| c.passages.len()).sum();
        eprintln!(
            "{name}: {:?} chapters={} passages={passages} toc={} resources={} cover={:?} warnings={:?}",
            book.metadata.title,
            book.chapters.len(),
            book.toc.len(),
            book.resources.len(),
            book.cover,
            book.warnings
        );
    }
}
