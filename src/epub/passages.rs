//! Splitting a chapter into passages: the blocks of text a reader sees as one unit.
//!
//! One lol_html pass walks the (self-closing-expanded) document with a stack of open elements,
//! so it needs no recursion and refuses nesting deeper than the limit. It numbers every element
//! with a [`SEQ_ATTR`] attribute, which the sanitizing pass uses to find the passage elements
//! again. Each block element owns the text directly inside it and inside its inline
//! descendants, but not the text of nested blocks, so no text is in two passages; a nested
//! block, or a `<br>`, counts as a space in its owner's text.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Element, TextChunk};
use lol_html::{RewriteStrSettings, doc_text, element, end_tag, rewrite_str};

use super::cfi::Step;
use super::text;

/// The attribute that carries each element's number from this pass to the sanitizing pass.
pub const SEQ_ATTR: &str = "data-scholia-seq";

const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Elements that can be passages; an element of this list holding only whitespace text (a
/// blockquote of paragraphs, a list) is not one.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "legend",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements whose text a reader never sees. The sanitizer removes most of them with their
/// content ([`super::sanitize`] keeps `head` contents out of the chapter and MathML
/// annotations, which browsers do not render).
pub const IGNORED: &[&str] = &[
    "head",
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "textarea",
    "select",
    "noembed",
    "noframes",
    "frameset",
    "applet",
    "annotation",
    "annotation-xml",
];

/// A passage as found in the document, before it gets its id and CFI.
pub struct Found {
    pub seq: usize,
    pub path: Vec<Step>,
    pub text: String,
}

pub struct Analysis {
    /// The document with [`SEQ_ATTR`] on every element.
    pub html: String,
    pub passages: Vec<Found>,
    /// `href`s of `<link rel="stylesheet">` in the head, entity-decoded, unresolved.
    pub stylesheets: Vec<String>,
    /// Contents of `<style>` elements in the head.
    pub styles: Vec<String>,
    pub title: Option<String>,
}

/// The document nests elements deeper than the limit.
#[derive(Debug)]
pub struct TooDeep;

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("elements nested too deeply")
    }
}

impl std::error::Error for TooDeep {}

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("elements nested too deeply")]
    TooDeep,
    #[error("{0}")]
    Html(String),
}

struct Open {
    seq: usize,
    name: String,
    step: usize,
    id: Option<String>,
    element_children: usize,
    ignored: bool,
    in_head: bool,
    block: bool,
    /// Not in the XHTML namespace (SVG, MathML, or e.g. CML inside `epub:switch`), where
    /// `caption` or `p` are not HTML blocks.
    foreign: bool,
    /// lol_html parses it as SVG or MathML.
    parsed_foreign: bool,
    /// Index into `State::candidates` of the block whose text this element's text belongs to.
    owner: Option<usize>,
}

struct Candidate {
    seq: usize,
    path: Vec<Step>,
    raw: String,
    /// When the block got its first visible text: passages are in reading order, so a
    /// `<section>` whose own text follows its heading comes after the heading.
    first_text: Option<usize>,
}

#[derive(Default)]
struct State {
    max_depth: usize,
    next_seq: usize,
    stack: Vec<Open>,
    candidates: Vec<Candidate>,
    stylesheets: Vec<String>,
    styles: Vec<String>,
    title: String,
    texts_seen: usize,
}

impl State {
    fn push_space(&mut self, owner: Option<usize>) {
        if let Some(owner) = owner {
            self.candidates[owner].raw.push(' ');
        }
    }

    /// Records an element's start; returns its number and whether it stays open (is not void).
    fn open(&mut self, el: &mut Element) -> Result<(usize, bool), TooDeep> {
        if self.stack.len() >= self.max_depth {
            return Err(TooDeep);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let name = local_name(&el.tag_name());
        let id = el
            .get_attribute("id")
            .map(|id| text::decode_entities(&id).into_owned());
        let parent = self.stack.last_mut();
        let is_root = parent.is_none();
        let (step, parent_ignored, parent_in_head, parent_owner, parent_foreign, parent_parsed) =
            match parent {
                Some(parent) => {
                    parent.element_children += 1;
                    (
                        2 * parent.element_children,
                        parent.ignored,
                        parent.in_head,
                        parent.owner,
                        parent.foreign,
                        parent.parsed_foreign,
                    )
                }
                None => (0, false, false, None, false, false),
            };
        let parsed_foreign = el.namespace_uri() != XHTML_NS;
        let foreign = parsed_foreign
            || el.tag_name().contains(':')
            || match el.get_attribute("xmlns") {
                Some(ns) => ns.trim() != XHTML_NS,
                // An HTML element directly in SVG or MathML is at an integration point
                // (`foreignObject`), where XHTML starts again.
                None => parent_foreign && !parent_parsed,
            };
        let ignored = parent_ignored || IGNORED.contains(&name.as_str());
        let in_head = parent_in_head || name == "head";
        if in_head && name == "link" {
            let rel = el.get_attribute("rel").unwrap_or_default();
            if rel
                .split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("stylesheet"))
            {
                if let Some(href) = el.get_attribute("href") {
                    self.stylesheets
                        .push(text::decode_entities(&href).into_owned());
                }
            }
        }
        if in_head && name == "style" {
            self.styles.push(String::new());
        }
        if name == "br" && !ignored {
            self.push_space(parent_owner);
        }
        let block = !ignored && !foreign && !is_root && BLOCKS.contains(&name.as_str());
        let owner = if block {
            self.push_space(parent_owner);
            let path = self
                .stack
                .iter()
                .skip(1)
                .map(|open| Step {
                    index: open.step,
                    id: open.id.clone(),
                })
                .chain([Step {
                    index: step,
                    id: id.clone(),
                }])
                .collect();
            self.candidates.push(Candidate {
                seq,
                path,
                raw: String::new(),
                first_text: None,
            });
            Some(self.candidates.len() - 1)
        } else {
            parent_owner
        };
        if !el.can_have_content() {
            return Ok((seq, false));
        }
        self.stack.push(Open {
            seq,
            name,
            step,
            id,
            element_children: 0,
            ignored,
            in_head,
            block,
            foreign,
            parsed_foreign,
            owner,
        });
        Ok((seq, true))
    }

    /// Closes the element numbered `seq` and any element left open inside it (lol_html does
    /// not report end tags of implicitly closed elements).
    fn close(&mut self, seq: usize) {
        if !self.stack.iter().any(|open| open.seq == seq) {
            return;
        }
        while let Some(open) = self.stack.pop() {
            if open.block {
                let owner = self.stack.last().and_then(|parent| parent.owner);
                self.push_space(owner);
            }
            if open.seq == seq {
                break;
            }
        }
    }

    fn text(&mut self, chunk: &TextChunk) {
        let Some(top) = self.stack.last() else { return };
        if top.in_head && top.name == "title" {
            self.title.push_str(chunk.as_str());
        } else if top.in_head && top.name == "style" {
            if let Some(style) = self.styles.last_mut() {
                style.push_str(chunk.as_str());
            }
        } else if !top.ignored {
            if let Some(owner) = top.owner {
                let candidate = &mut self.candidates[owner];
                candidate.raw.push_str(chunk.as_str());
                if candidate.first_text.is_none()
                    && !chunk.as_str().trim_matches(text::is_html_space).is_empty()
                {
                    candidate.first_text = Some(self.texts_seen);
                    self.texts_seen += 1;
                }
            }
        }
    }
}

/// The element's local name, lowercased: `svg:rect` is `rect`.
pub fn local_name(tag: &str) -> String {
    tag.rsplit(':').next().unwrap_or(tag).to_ascii_lowercase()
}

pub fn analyse(html: &str, max_depth: usize) -> Result<Analysis, AnalysisError> {
    let state = Rc::new(RefCell::new(State {
        max_depth,
        ..State::default()
    }));
    let on_element = Rc::clone(&state);
    let on_text = Rc::clone(&state);
    let output = rewrite_str(
        html,
        RewriteStrSettings {
            element_content_handlers: vec![element!("*", move |el| {
                let (seq, stays_open) = on_element.borrow_mut().open(el)?;
                el.set_attribute(SEQ_ATTR, &seq.to_string())?;
                if stays_open {
                    let on_end = Rc::clone(&on_element);
                    el.on_end_tag(end_tag!(move |_| {
                        on_end.borrow_mut().close(seq);
                        Ok(())
                    }))?;
                }
                Ok(())
            })],
            document_content_handlers: vec![doc_text!(move |chunk| {
                on_text.borrow_mut().text(chunk);
                Ok(())
            })],
            strict: false,
            ..RewriteStrSettings::new()
        },
    )
    .map_err(|e| match e {
        lol_html::errors::RewritingError::ContentHandlerError(inner) if inner.is::<TooDeep>() => {
            AnalysisError::TooDeep
        }
        other => AnalysisError::Html(other.to_string()),
    })?;
    let mut state = std::mem::take(&mut *state.borrow_mut());
    state.candidates.sort_by_key(|c| c.first_text);
    let passages = state
        .candidates
        .into_iter()
        .filter_map(|c| {
            let text = text::normalize(&text::decode_entities(&c.raw));
            (!text.is_empty()).then_some(Found {
                seq: c.seq,
                path: c.path,
                text,
            })
        })
        .collect();
    let title = text::normalize(&text::decode_entities(&state.title));
    Ok(Analysis {
        html: output,
        passages,
        stylesheets: state.stylesheets,
        styles: state.styles,
        title: (!title.is_empty()).then_some(title),
    })
}
