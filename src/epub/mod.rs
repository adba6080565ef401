//! Reading an EPUB: limits against hostile archives, metadata, passages, CFIs, sanitizing.
//!
//! [`parse`] turns the bytes of an EPUB into a [`ParsedBook`] or refuses it with an
//! [`EpubError`] that names the problem; [`parse_streaming`] hands the book over piece by piece
//! from a file (any [`Source`]) read in place. Nothing is trusted before [`archive`] has
//! checked the zip against the [`Limits`]; only then does the `epub` crate read the package.

mod archive;
mod cfi;
mod chapter;
mod css;
mod dom;
mod error;
mod markup;
mod passage_text;
mod passages;
mod resource;
mod sanitize;
mod source;
mod spine;
mod text;
mod toc;
mod urls;

use std::collections::HashSet;

use sha2::{Digest, Sha256};

/// The importer's HTML parse, for `bench/import_floor.rs` to measure as it is.
#[doc(hidden)]
pub use dom::parse_fragment;
pub use error::EpubError;
pub use source::{FileAt, Source};

pub use urls::Book;

use archive::Archive;
use urls::normalize_path;

/// Bounds on what an imported file may make the importer do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Size of the EPUB file (`--max-file-bytes`).
    pub max_file_bytes: u64,
    /// Entries in the zip (`--max-entries`).
    pub max_entries: usize,
    /// Uncompressed size of one entry (`--max-entry-bytes`).
    pub max_entry_bytes: u64,
    /// Uncompressed size of all entries (`--max-total-bytes`).
    pub max_total_bytes: u64,
    /// Uncompressed / compressed size of one entry, checked for entries over 1 MiB
    /// (`--max-compression-ratio`).
    pub max_compression_ratio: u64,
    /// Element nesting in a chapter (`--max-html-depth`).
    pub max_html_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        Limits {
            max_file_bytes: 200 * MIB,
            max_entries: 10_000,
            max_entry_bytes: 64 * MIB,
            max_total_bytes: 512 * MIB,
            max_compression_ratio: 100,
            max_html_depth: 256,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ParsedBook {
    pub metadata: Metadata,
    /// Nested: the EPUB 3 nav, else the EPUB 2 NCX, else one entry per spine item.
    pub toc: Vec<TocEntry>,
    /// Every spine item, linear or not, in spine order.
    pub chapters: Vec<Chapter>,
    /// Every manifest item that is not a spine document, is present in the archive and is of
    /// use to a reader ([`resource::kind`]). CSS and SVG are sanitized; other data is as in the
    /// archive.
    pub resources: Vec<Resource>,
    /// Resource path of the cover image.
    pub cover: Option<String>,
    /// Hex SHA-256 over the passages' texts in order, each followed by `\n` (normalized texts
    /// hold no newline), so a re-zipped copy of the book hashes the same.
    pub content_hash: String,
    /// Problems that did not stop the import, e.g. a manifest item missing from the archive.
    pub warnings: Vec<String>,
}

/// How the book asks to be laid out (EPUB 3 `rendition:layout`, the spine's
/// `page-progression-direction`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Rendition {
    /// Fixed-layout pages (`pre-paginated`), each sized by its chapter's viewport, instead of
    /// text that reflows.
    pub fixed_layout: bool,
    /// `ltr` or `rtl`, where the book says.
    pub page_progression_direction: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Metadata {
    /// The package's title, else the NCX's, else the first chapter's `<title>`, else "Untitled".
    pub title: String,
    pub authors: Vec<String>,
    pub language: Option<String>,
    pub identifiers: Vec<String>,
    pub publisher: Option<String>,
    pub description: Option<String>,
    pub date: Option<String>,
    pub rendition: Rendition,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TocEntry {
    pub title: String,
    /// Target as a zip path with its `#fragment`; empty for a heading that links nowhere.
    pub href: String,
    /// The chapter the target is in.
    pub chapter: Option<usize>,
    pub children: Vec<TocEntry>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Chapter {
    pub index: usize,
    pub idref: String,
    /// Path in the zip.
    pub href: String,
    /// From the TOC.
    pub title: Option<String>,
    /// The sanitized body content under one `<div class="scholia-chapter" lang dir>` root that
    /// starts with the chapter's stylesheets (`<link>`s to served resources and `<style>`s);
    /// passage elements carry `data-passage="{id}"`.
    pub html: String,
    pub passages: Vec<Passage>,
    /// A fixed-layout page's size in CSS pixels, from its `<meta name="viewport">`.
    pub viewport: Option<(u32, u32)>,
    /// What the chapter held that was not imported as written (a DOCTYPE's external entity,
    /// say); the book's warnings.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// A block of text a reader sees as one unit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Passage {
    /// `c{chapter}p{ordinal}`: the same for every import of the same book.
    pub id: String,
    pub chapter: usize,
    /// 0-based, in reading order: by where the passage's first text is (a `<section>` whose
    /// own text follows its heading comes after the heading).
    pub ordinal: usize,
    pub cfi: String,
    /// The element's own text (not that of nested blocks, each of which, like a `<br>`, counts
    /// as a space), character references decoded, runs of HTML whitespace collapsed to one
    /// space, trimmed.
    pub text: String,
    /// The first 16 hex digits of the SHA-256 of `text`.
    pub fingerprint: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Resource {
    /// Path in the zip.
    pub path: String,
    pub media_type: String,
    pub data: Vec<u8>,
}

/// The media type of an EPUB 2 table of contents.
const NCX: &str = "application/x-dtbncx+xml";

/// One manifest item, with its path normalized.
struct Item {
    id: String,
    path: String,
    media_type: String,
    properties: String,
}

/// A finished piece of a book, handed over by [`parse_streaming`] as soon as it is ready.
#[derive(Debug, Clone)]
pub enum Part {
    Chapter(Chapter),
    Resource(Resource),
}

impl Part {
    /// Roughly the heap bytes it holds.
    pub fn size(&self) -> usize {
        match self {
            Part::Chapter(c) => {
                c.html.len()
                    + c.passages
                        .iter()
                        .map(|p| p.text.len() + p.cfi.len() + 64)
                        .sum::<usize>()
            }
            Part::Resource(r) => r.data.len(),
        }
    }
}

/// What [`parse_streaming`] knows once every part is out: a [`ParsedBook`] without its
/// chapters and resources.
#[derive(Debug, Clone)]
pub struct Summary {
    pub metadata: Metadata,
    pub toc: Vec<TocEntry>,
    pub cover: Option<String>,
    pub content_hash: String,
    pub warnings: Vec<String>,
    pub chapters: usize,
    pub passages: usize,
}

/// Parses an EPUB. `base` is the URL prefix under which the book is served (e.g.
/// `/api/books/6f1c…`, path-absolute): links to chapters become `{base}/chapters/{index}#frag`
/// and resources `{base}/resources/{path-in-zip}`, percent-encoded.
pub fn parse(bytes: &[u8], limits: &Limits, base: &str) -> Result<ParsedBook, EpubError> {
    let mut chapters = Vec::new();
    let mut resources = Vec::new();
    let summary = parse_streaming(bytes, limits, base, |part| {
        match part {
            Part::Chapter(chapter) => chapters.push(chapter),
            Part::Resource(resource) => resources.push(resource),
        }
        Ok(())
    })?;
    Ok(ParsedBook {
        metadata: summary.metadata,
        toc: summary.toc,
        chapters,
        resources,
        cover: summary.cover,
        content_hash: summary.content_hash,
        warnings: summary.warnings,
    })
}

/// [`parse`], reading the EPUB from `source` (a file is read in place, never whole), and
/// handing each chapter (in spine order), then each resource, to `emit` as soon as it is ready
/// instead of keeping them, so a big book need not be in memory all at once. An error from
/// `emit` stops the parse and is returned. Nothing about the book is final until it returns
/// `Ok`: a later chapter may still refuse the file.
pub fn parse_streaming<S: Source + ?Sized>(
    source: &S,
    limits: &Limits,
    base: &str,
    mut emit: impl FnMut(Part) -> Result<(), EpubError>,
) -> Result<Summary, EpubError> {
    let mut archive = Archive::open(source.reader(), limits)?;
    let container = archive
        .read("META-INF/container.xml")?
        .ok_or(EpubError::MissingContainer)?;
    let package_path = rootfile(&text::decode_markup(&container)).ok_or(EpubError::NoRootfile)?;
    drop(container);
    let rendition = archive
        .read(&package_path)?
        .map(|package| rendition(&text::decode_markup(&package)))
        .unwrap_or_default();
    if !archive.contains(&package_path) {
        return Err(EpubError::MissingPackage { path: package_path });
    }
    let doc = epub::doc::EpubDoc::from_reader(source.reader()).map_err(|e| {
        EpubError::InvalidPackage {
            path: package_path.clone(),
            reason: e.to_string(),
        }
    })?;
    let mut warnings = Vec::new();

    let mut items: Vec<Item> = doc
        .resources
        .iter()
        .filter_map(|(id, item)| {
            Some(Item {
                id: id.clone(),
                path: normalize_path(&item.path.to_string_lossy())?,
                media_type: item.mime.clone(),
                properties: item.properties.clone().unwrap_or_default(),
            })
        })
        .collect();
    // The crate keeps the manifest in a HashMap; sorting makes every import alike.
    items.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));

    if doc.spine.is_empty() {
        return Err(EpubError::EmptySpine);
    }
    let mut spine = Vec::new();
    for itemref in &doc.spine {
        let item = items
            .iter()
            .find(|item| item.id == itemref.idref)
            .ok_or_else(|| EpubError::UnknownSpineItem {
                idref: itemref.idref.clone(),
            })?;
        if !archive.contains(&item.path) {
            warnings.push(format!(
                "spine document {:?} is missing from the archive; its chapter is empty",
                item.path
            ));
        }
        spine.push((itemref.idref.clone(), item.path.clone()));
    }

    let spine_paths: HashSet<&str> = spine.iter().map(|(_, path)| path.as_str()).collect();
    let mut resource_items = Vec::new();
    for item in &items {
        if spine_paths.contains(item.path.as_str()) {
            continue;
        }
        if !archive.contains(&item.path) {
            warnings.push(format!(
                "manifest item {:?} ({}) is missing from the archive",
                item.id, item.path
            ));
        } else if let Some(kind) = resource::kind(&item.media_type) {
            resource_items.push((item, kind));
        } else if item.media_type != NCX {
            // The NCX was read for the table of contents; anything else is worth a word.
            warnings.push(format!(
                "{} ({}) is left out: a reader has no use for it, and served it could run",
                item.path, item.media_type
            ));
        }
    }
    let book = Book {
        base: base.trim_end_matches('/').to_owned(),
        chapters: spine
            .iter()
            .enumerate()
            .rev()
            .map(|(index, (_, path))| (path.clone(), index))
            .collect(),
        resources: resource_items
            .iter()
            .map(|(item, _)| item.path.clone())
            .collect(),
    };

    let nav = items
        .iter()
        .find(|item| item.properties.split_ascii_whitespace().any(|p| p == "nav"));
    let mut toc = match nav {
        Some(nav) => match archive.read(&nav.path)? {
            Some(data) => {
                let (html, _) = markup::source(&data);
                toc::from_nav(&html, &nav.path, &book)
            }
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    if toc.is_empty() {
        toc = toc::from_ncx(&doc.toc, &book);
    }
    // Everything else needed from the package, so the crate's reader can go.
    let cover = cover(&doc, &items, &book);
    let mut metadata = metadata(&doc);
    metadata.rendition = rendition;
    drop(doc);

    let mut hash = ContentHash::default();
    let mut passages = 0;
    let mut document_titles = Vec::with_capacity(spine.len());
    spine::parse_chapters(
        &mut archive,
        &spine,
        &book,
        &toc,
        limits,
        |mut chapter, document_title| {
            warnings.extend(
                std::mem::take(&mut chapter.warnings)
                    .into_iter()
                    .map(|warning| format!("{}: {warning}", chapter.href)),
            );
            for passage in &chapter.passages {
                hash.add(&passage.text);
            }
            passages += chapter.passages.len();
            document_titles.push(document_title);
            emit(Part::Chapter(chapter))
        },
    )?;
    if toc.is_empty() {
        toc = spine
            .iter()
            .enumerate()
            .map(|(index, (_, path))| TocEntry {
                title: document_titles[index]
                    .clone()
                    .unwrap_or_else(|| format!("Chapter {}", index + 1)),
                href: path.clone(),
                chapter: Some(index),
                children: Vec::new(),
            })
            .collect();
    }

    for (item, kind) in &resource_items {
        let data = archive.read(&item.path)?.unwrap_or_default();
        emit(Part::Resource(Resource {
            path: item.path.clone(),
            media_type: item.media_type.clone(),
            data: resource::sanitize(*kind, data, &item.path, &book),
        }))?;
    }
    if metadata.title.is_empty() {
        // The package's title, else the NCX's, else the first chapter's `<title>`.
        metadata.title = (document_titles.iter().flatten().next().cloned())
            .unwrap_or_else(|| "Untitled".to_owned());
    }

    Ok(Summary {
        metadata,
        toc,
        cover,
        content_hash: hash.finish(),
        warnings,
        chapters: spine.len(),
        passages,
    })
}

/// The package's `rendition:layout` and the spine's `page-progression-direction`.
fn rendition(package: &str) -> Rendition {
    let mut found = Rendition::default();
    let _ = lol_html::rewrite_str(
        package,
        lol_html::RewriteStrSettings {
            element_content_handlers: vec![lol_html::element!("spine", |el| {
                found.page_progression_direction = el
                    .get_attribute("page-progression-direction")
                    .map(|d| d.trim().to_ascii_lowercase())
                    .filter(|d| d == "ltr" || d == "rtl");
                Ok(())
            })],
            strict: false,
            ..lol_html::RewriteStrSettings::new()
        },
    );
    // `<meta property="rendition:layout">pre-paginated</meta>`: an HTML parser takes `<meta>`
    // for a void element and its text for a sibling, so the text is read off the source.
    found.fixed_layout = package
        .match_indices("\"rendition:layout\"")
        .filter_map(|(at, _)| {
            let rest = &package[at..];
            let text = &rest[rest.find('>')? + 1..];
            Some(text[..text.find('<')?].trim())
        })
        .any(|layout| layout == "pre-paginated");
    found
}

/// The package document's path from `META-INF/container.xml`.
fn rootfile(container: &str) -> Option<String> {
    let mut found = None;
    lol_html::rewrite_str(
        container,
        lol_html::RewriteStrSettings {
            element_content_handlers: vec![lol_html::element!("rootfile", |el| {
                if found.is_none() {
                    found = el.get_attribute("full-path");
                }
                Ok(())
            })],
            strict: false,
            ..lol_html::RewriteStrSettings::new()
        },
    )
    .ok()?;
    normalize_path(&text::decode_entities(&found?)).filter(|p| !p.is_empty())
}

/// A chapter stored by an earlier importer, sanitized as today's importer would: the HTML and
/// each passage's text by id (ids and CFIs stay). `href` is the chapter's zip path and `book`
/// the stored book, whose `base` is where it is served.
pub fn refresh_chapter(
    html: &str,
    href: &str,
    book: &Book,
) -> Result<(String, std::collections::HashMap<String, String>), EpubError> {
    chapter::refresh(html, href, book).map_err(|reason| EpubError::InvalidChapter {
        path: href.to_owned(),
        reason,
    })
}

/// Whether a resource of `media_type` is imported and served.
pub fn serves(media_type: &str) -> bool {
    resource::kind(media_type).is_some()
}

/// A resource stored by an earlier importer as today's importer would serve it, or `None` when
/// it would not be imported today.
pub fn refresh_resource(
    media_type: &str,
    data: Vec<u8>,
    path: &str,
    book: &Book,
) -> Option<Vec<u8>> {
    let kind = resource::kind(media_type)?;
    Some(resource::sanitize(kind, data, path, book))
}

/// A book's content hash ([`ParsedBook::content_hash`]), fed its passages' texts in reading
/// order.
#[derive(Default)]
pub struct ContentHash(Sha256);

impl ContentHash {
    pub fn add(&mut self, passage_text: &str) {
        self.0.update(passage_text.as_bytes());
        self.0.update(b"\n");
    }

    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// The EPUB 3 `cover-image` item, else the EPUB 2 `<meta name="cover">` (an id, or in some
/// books a path), if it is an image the book has.
fn cover<R: std::io::Read + std::io::Seek>(
    doc: &epub::doc::EpubDoc<R>,
    items: &[Item],
    book: &Book,
) -> Option<String> {
    let by_property = items.iter().find(|item| {
        item.properties
            .split_ascii_whitespace()
            .any(|p| p == "cover-image")
    });
    let by_meta = || {
        let value = doc.mdata("cover")?.value.trim().to_owned();
        items
            .iter()
            .find(|item| item.id == value || item.path.ends_with(&value))
    };
    by_property
        .or_else(by_meta)
        .filter(|item| item.media_type.starts_with("image/") && book.resources.contains(&item.path))
        .map(|item| item.path.clone())
}

/// The title is empty when neither the package nor the NCX has one.
fn metadata<R: std::io::Read + std::io::Seek>(doc: &epub::doc::EpubDoc<R>) -> Metadata {
    let values = |property: &str| -> Vec<String> {
        doc.metadata
            .iter()
            .filter(|item| item.property == property)
            .map(|item| text::normalize(&item.value))
            .filter(|value| !value.is_empty())
            .collect()
    };
    let first = |property: &str| values(property).into_iter().next();
    let title = first("title")
        .or_else(|| Some(text::normalize(&doc.toc_title)).filter(|t| !t.is_empty()))
        .unwrap_or_default();
    Metadata {
        title,
        authors: values("creator"),
        language: first("language"),
        identifiers: values("identifier"),
        publisher: first("publisher"),
        description: first("description"),
        date: first("date"),
        rendition: Rendition::default(),
    }
}
