//! The table of contents: the EPUB 3 navigation document, else the EPUB 2 NCX (as the `epub`
//! crate reads it), else one entry per spine item.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::{RewriteStrSettings, doc_text, element, end_tag, rewrite_str};

use super::TocEntry;
use super::passages::local_name;
use super::text;
use super::urls::{Book, join, normalize_path};

/// An entry being read from the nav document, before its href is resolved.
#[derive(Default)]
struct RawEntry {
    label: String,
    href: Option<String>,
    children: Vec<RawEntry>,
}

#[derive(Default)]
struct NavState {
    /// Depth of open elements inside `<nav epub:type="toc">`, 0 outside.
    nav_depth: usize,
    /// Open `<li>`s, innermost last.
    items: Vec<RawEntry>,
    roots: Vec<RawEntry>,
    /// Inside the `<a>` or `<span>` that labels the innermost `<li>`.
    in_label: usize,
}

/// Entries of the `toc` nav in an EPUB 3 navigation document at zip path `nav_path`.
pub fn from_nav(html: &str, nav_path: &str, book: &Book) -> Vec<TocEntry> {
    let state = Rc::new(RefCell::new(NavState::default()));
    let on_element = Rc::clone(&state);
    let on_text = Rc::clone(&state);
    let result = rewrite_str(
        html,
        RewriteStrSettings {
            element_content_handlers: vec![element!("*", move |el| {
                let name = local_name(&el.tag_name()).to_owned();
                let mut s = on_element.borrow_mut();
                let is_toc = name == "nav"
                    && el
                        .get_attribute("epub:type")
                        .is_some_and(|t| t.split_ascii_whitespace().any(|t| t == "toc"));
                if s.nav_depth == 0 && !is_toc || !el.can_have_content() {
                    return Ok(());
                }
                s.nav_depth += 1;
                match name.as_str() {
                    "li" => s.items.push(RawEntry::default()),
                    "a" | "span" if !s.items.is_empty() => {
                        s.in_label += 1;
                        if name == "a" {
                            let href = el.get_attribute("href");
                            if let Some(item) = s.items.last_mut() {
                                item.href = item.href.take().or(href);
                            }
                        }
                    }
                    _ => {}
                }
                drop(s);
                let on_end = Rc::clone(&on_element);
                el.on_end_tag(end_tag!(move |_| {
                    let mut s = on_end.borrow_mut();
                    s.nav_depth -= 1;
                    match name.as_str() {
                        "li" => {
                            if let Some(item) = s.items.pop() {
                                match s.items.last_mut() {
                                    Some(parent) => parent.children.push(item),
                                    None => s.roots.push(item),
                                }
                            }
                        }
                        "a" | "span" if s.in_label > 0 => s.in_label -= 1,
                        _ => {}
                    }
                    Ok(())
                }))?;
                Ok(())
            })],
            document_content_handlers: vec![doc_text!(move |chunk| {
                let mut s = on_text.borrow_mut();
                if s.in_label > 0 {
                    if let Some(item) = s.items.last_mut() {
                        item.label.push_str(chunk.as_str());
                    }
                }
                Ok(())
            })],
            strict: false,
            ..RewriteStrSettings::new()
        },
    );
    if result.is_err() {
        return Vec::new();
    }
    let roots = std::mem::take(&mut state.borrow_mut().roots);
    roots
        .into_iter()
        .filter_map(|raw| resolve_nav(raw, nav_path, book))
        .collect()
}

fn resolve_nav(raw: RawEntry, nav_path: &str, book: &Book) -> Option<TocEntry> {
    let children: Vec<TocEntry> = raw
        .children
        .into_iter()
        .filter_map(|child| resolve_nav(child, nav_path, book))
        .collect();
    let title = text::normalize(&text::decode_entities(&raw.label));
    let href = raw
        .href
        .map(|h| text::decode_entities(&h).into_owned())
        .and_then(|h| target(nav_path, &h, book));
    if title.is_empty() && children.is_empty() {
        return None;
    }
    let (href, chapter) = href.unwrap_or_default();
    Some(TocEntry {
        title,
        href,
        chapter,
        children,
    })
}

/// The zip path (with fragment) an href points to, and its chapter.
fn target(from: &str, href: &str, book: &Book) -> Option<(String, Option<usize>)> {
    let (path, fragment) = match href.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (href, None),
    };
    let path = if path.is_empty() {
        from.to_owned()
    } else {
        join(from, path)?
    };
    let chapter = book.chapters.get(&path).copied();
    let href = match fragment {
        Some(fragment) => format!("{path}#{fragment}"),
        None => path,
    };
    Some((href, chapter))
}

/// Entries from the NCX, whose targets the `epub` crate has joined to the NCX's directory.
pub fn from_ncx(points: &[epub::doc::NavPoint], book: &Book) -> Vec<TocEntry> {
    points
        .iter()
        .map(|point| {
            let content = point.content.to_string_lossy();
            let (path, fragment) = match content.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (content.as_ref(), None),
            };
            let path = normalize_path(path).unwrap_or_default();
            let chapter = book.chapters.get(&path).copied();
            let href = match fragment {
                Some(fragment) => format!("{path}#{fragment}"),
                None => path,
            };
            TocEntry {
                title: text::normalize(&point.label),
                href,
                chapter,
                children: from_ncx(&point.children, book),
            }
        })
        .collect()
}

/// The first entry, depth first, that points into chapter `index`.
pub fn title_of(entries: &[TocEntry], index: usize) -> Option<String> {
    entries.iter().find_map(|entry| {
        if entry.chapter == Some(index) && !entry.title.is_empty() {
            Some(entry.title.clone())
        } else {
            title_of(&entry.children, index)
        }
    })
}
