//! One spine document into a [`Chapter`].
//!
//! 1. One lol_html pass over the XHTML finds the passage candidates and their CFIs
//!    ([`Splitter`]), marks each with an attribute whose name holds a random nonce (so no book
//!    can forge one), lifts `<html>`'s `lang`/`dir` and turns `<body>` into a `<div>`.
//! 2. The result goes under the chapter's root `<div class="scholia-chapter">`, after the
//!    head's stylesheets, and is parsed as the reader's page will parse it ([`dom`]), sanitized
//!    ([`sanitize`]), and its passages' texts and reading order are read from that tree
//!    ([`passage_text`]).
//! 3. The sanitized tree is serialized, parsed and sanitized again until it no longer changes:
//!    what the reader receives is a fixed point of parse-and-sanitize, so a browser's parse of
//!    it holds nothing the sanitizer would remove.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lol_html::{
    RewriteStrSettings, doc_comments, doc_text, doctype, element, end_tag, rewrite_str,
};
use sha2::{Digest, Sha256};

use super::passage_text::{first_texts, passage_text};
use super::passages::{Splitter, TooDeep, local_name};
use super::sanitize::{PASSAGE_ATTR, Policy, escape_attr, sanitize_tree};
use super::urls::Book;
use super::{Chapter, EpubError, Limits, Passage, TocEntry, cfi, dom, markup, text, toc};

/// Rounds of parse-and-sanitize after the first before a chapter that still changes is refused.
const SETTLING_ROUNDS: usize = 3;

/// Splits and sanitizes one spine document; also returns the document's `<title>`.
pub fn chapter(
    index: usize,
    idref: &str,
    path: &str,
    bytes: &[u8],
    book: &Book,
    toc: &[TocEntry],
    limits: &Limits,
) -> Result<(Chapter, Option<String>), EpubError> {
    let invalid = |reason: String| EpubError::InvalidChapter {
        path: path.to_owned(),
        reason,
    };
    let marker = format!("data-scholia-{:016x}", rand::random::<u64>());
    let (source, warnings) = markup::source(bytes);
    let (body, root, analysis) = split(&source, &marker, limits).map_err(|e| match e {
        lol_html::errors::RewritingError::ContentHandlerError(inner) if inner.is::<TooDeep>() => {
            EpubError::HtmlTooDeep {
                chapter: path.to_owned(),
                limit: limits.max_html_depth,
            }
        }
        other => invalid(other.to_string()),
    })?;
    drop(source);

    let mut html = String::with_capacity(body.len() + 256);
    html.push_str("<div class=\"scholia-chapter\"");
    for (name, value) in [("lang", &root.lang), ("dir", &root.dir)] {
        if let Some(value) = value {
            html.push_str(&format!(" {name}=\"{}\"", escape_attr(value)));
        }
    }
    html.push('>');
    for href in &analysis.stylesheets {
        html.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"{}\">",
            escape_attr(href)
        ));
    }
    for style in &analysis.styles {
        // The head's `<style>` text is raw text that ended at `</style`: it cannot end this one.
        html.push_str(&format!("<style>{style}</style>"));
    }
    html.push_str(body.trim());
    html.push_str("</div>");
    drop(body);

    let tree = dom::parse_fragment(&html);
    drop(html);
    sanitize_tree(
        &tree,
        &Policy {
            from: path,
            book,
            marker: Some(&marker),
            keep_passages: false,
        },
    );
    let passages = mark_passages(&tree, &marker, index, idref, &analysis.candidates);
    let (html, settled) = settle(dom::serialize_children(&tree), path, book).map_err(invalid)?;
    check_passages(&settled, &passages).map_err(invalid)?;

    let chapter = Chapter {
        index,
        idref: idref.to_owned(),
        href: path.to_owned(),
        title: toc::title_of(toc, index),
        html,
        passages,
        viewport: analysis.viewport,
        warnings,
    };
    Ok((chapter, analysis.title))
}

/// The `lang` and `dir` of a chapter's `<html>`, for the root that replaces it.
#[derive(Default)]
struct Root {
    lang: Option<String>,
    dir: Option<String>,
}

/// The lol_html pass: the body (`<body>` as `<div data-epub-body>`, head, doctype and
/// comments gone, candidates marked with `marker`), the root's attributes, the candidates.
fn split(
    source: &str,
    marker: &str,
    limits: &Limits,
) -> Result<(String, Root, super::passages::Analysis), lol_html::errors::RewritingError> {
    let splitter = Rc::new(RefCell::new(Splitter::new(limits.max_html_depth)));
    let root = RefCell::new(Root::default());
    let on_text = Rc::clone(&splitter);
    let body = rewrite_str(
        source,
        RewriteStrSettings {
            element_content_handlers: vec![element!("*", |el| {
                let tag = el.tag_name();
                let opened = splitter.borrow_mut().open(el, &tag)?;
                match local_name(&tag) {
                    "head" => el.remove(),
                    "html" => {
                        let attribute = |name: &str| {
                            el.get_attribute(name)
                                .map(|v| text::decode_entities(&v).into_owned())
                        };
                        let mut root = root.borrow_mut();
                        root.lang = attribute("xml:lang").or_else(|| attribute("lang"));
                        root.dir = attribute("dir");
                        el.remove_and_keep_content();
                    }
                    "body" => {
                        // Only the tag name changes: `<div>` can live inside the page.
                        el.set_tag_name("div")?;
                        el.set_attribute("data-epub-body", "")?;
                    }
                    _ => {}
                }
                if let Some(candidate) = opened.candidate {
                    el.set_attribute(marker, &candidate.to_string())?;
                }
                if opened.stays_open {
                    let on_end = Rc::clone(&splitter);
                    el.on_end_tag(end_tag!(move |_| {
                        on_end.borrow_mut().close(opened.seq);
                        Ok(())
                    }))?;
                }
                Ok(())
            })],
            document_content_handlers: vec![
                doc_text!(move |chunk| {
                    on_text.borrow_mut().text(chunk);
                    Ok(())
                }),
                doctype!(|d| {
                    d.remove();
                    Ok(())
                }),
                doc_comments!(|c| {
                    c.remove();
                    Ok(())
                }),
            ],
            strict: false,
            ..RewriteStrSettings::new()
        },
    )?;
    let analysis = std::mem::take(&mut *splitter.borrow_mut()).finish();
    Ok((body, root.into_inner(), analysis))
}

/// Finds the marked candidates in the sanitized tree, makes those with text passages (ids in
/// reading order, `data-passage` set) and removes every mark.
fn mark_passages(
    tree: &dom::Handle,
    marker: &str,
    chapter: usize,
    idref: &str,
    candidates: &[Vec<cfi::Step>],
) -> Vec<Passage> {
    // Candidate numbers by node; the parser clones only formatting elements, never blocks, so
    // a number is on one node at most, but a forged or cloned one would not count twice.
    let mut numbers: HashMap<*const dom::Node, usize> = HashMap::new();
    let mut elements: HashMap<usize, dom::Handle> = HashMap::new();
    let mut stack = vec![tree.clone()];
    while let Some(node) = stack.pop() {
        let number = dom::attribute(&node, marker).and_then(|n| n.parse::<usize>().ok());
        if let Some(number) = number.filter(|n| *n < candidates.len() && !elements.contains_key(n))
        {
            numbers.insert(Rc::as_ptr(&node), number);
            elements.insert(number, node.clone());
        }
        dom::remove_attribute(&node, marker);
        stack.extend(node.children.borrow().iter().cloned());
    }
    let owner = |node: &dom::Handle| numbers.get(&Rc::as_ptr(node)).copied();
    let is_candidate = |node: &dom::Handle| owner(node).is_some();
    first_texts(tree, &owner)
        .into_iter()
        .filter_map(|candidate| {
            let element = &elements[&candidate];
            let text = passage_text(element, &is_candidate);
            (!text.is_empty()).then_some((candidate, element, text))
        })
        .enumerate()
        .map(|(ordinal, (candidate, element, text))| {
            let id = format!("c{chapter}p{ordinal}");
            dom::set_attribute(element, PASSAGE_ATTR, &id);
            Passage {
                id,
                chapter,
                ordinal,
                cfi: cfi::passage_cfi(chapter, idref, &candidates[candidate]),
                fingerprint: hex::encode(&Sha256::digest(text.as_bytes())[..8]),
                text,
            }
        })
        .collect()
}

/// A chapter as an earlier importer stored it, sanitized again: its passages keep their ids
/// (and CFIs), and their texts are read as the reader reads them. Returns the new HTML and
/// each passage's text by id.
pub fn refresh(
    html: &str,
    from: &str,
    book: &Book,
) -> Result<(String, HashMap<String, String>), String> {
    let (html, tree) = settle(html.to_owned(), from, book)?;
    let texts = read_passages(&tree)
        .into_iter()
        .map(|(id, el)| {
            let text = passage_text(&el, &|node| dom::attribute(node, PASSAGE_ATTR).is_some());
            (id, text)
        })
        .collect();
    Ok((html, texts))
}

/// Parses and sanitizes `html` again until it no longer changes; refuses a chapter that does
/// not settle. Returns it with its settled tree.
fn settle(mut html: String, from: &str, book: &Book) -> Result<(String, dom::Handle), String> {
    let policy = Policy {
        from,
        book,
        marker: None,
        keep_passages: true,
    };
    for _ in 0..SETTLING_ROUNDS {
        let tree = dom::parse_fragment(&html);
        sanitize_tree(&tree, &policy);
        let again = dom::serialize_children(&tree);
        if again == html {
            return Ok((html, tree));
        }
        html = again;
    }
    Err("its markup keeps changing when parsed again, so it cannot be made safe".to_owned())
}

/// The elements of the tree that carry `data-passage`, by id.
fn read_passages(tree: &dom::Handle) -> HashMap<String, dom::Handle> {
    let mut found = HashMap::new();
    let mut stack = vec![tree.clone()];
    while let Some(node) = stack.pop() {
        if let Some(id) = dom::attribute(&node, PASSAGE_ATTR) {
            found.insert(id, node.clone());
        }
        stack.extend(node.children.borrow().iter().cloned());
    }
    found
}

/// The passages of the settled tree are the ones found, with the same texts, as the reader
/// reads them (only `data-passage` tells it a passage).
fn check_passages(tree: &dom::Handle, passages: &[Passage]) -> Result<(), String> {
    let found = read_passages(tree);
    let is_passage = |node: &dom::Handle| dom::attribute(node, PASSAGE_ATTR).is_some();
    let same = found.len() == passages.len()
        && passages.iter().all(|p| {
            found
                .get(&p.id)
                .is_some_and(|el| passage_text(el, &is_passage) == p.text)
        });
    if same {
        Ok(())
    } else {
        Err("its passages read differently when parsed again".to_owned())
    }
}
