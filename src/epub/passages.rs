//! Splitting a chapter into passages: the blocks of text a reader sees as one unit.
//!
//! [`Splitter`] is fed the (self-closing-expanded) document's elements and text by the
//! chapter's one lol_html pass ([`super::chapter`]). It keeps a stack of open elements, so it
//! needs no recursion and refuses nesting deeper than the limit. Every block element that may
//! be a passage is a candidate, numbered in document order. Each block element owns the text
//! directly inside it and inside its inline descendants, but not the text of nested blocks, so
//! no text is in two passages; a nested block, or a `<br>`, counts as a space in its owner's
//! text.

use lol_html::html_content::{Element, TextChunk};

use super::cfi::Step;
use super::text;

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
    /// The number of the candidate it is (see [`Opened::candidate`]).
    pub candidate: usize,
    pub path: Vec<Step>,
    pub text: String,
}

pub struct Analysis {
    /// In reading order.
    pub passages: Vec<Found>,
    /// How many candidates there were (passages and blocks without text).
    pub candidates: usize,
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

/// What [`Splitter::open`] learned about an element.
pub struct Opened {
    /// Its number, in document order, for [`Splitter::close`].
    pub seq: usize,
    /// Not void: it has an end tag to wait for.
    pub stays_open: bool,
    /// The element may be a passage: the number of this candidate, in document order.
    pub candidate: Option<usize>,
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
    path: Vec<Step>,
    raw: String,
    /// When the block got its first visible text: passages are in reading order, so a
    /// `<section>` whose own text follows its heading comes after the heading.
    first_text: Option<usize>,
}

/// The state of the walk through one chapter.
#[derive(Default)]
pub struct Splitter {
    max_depth: usize,
    next_seq: usize,
    stack: Vec<Open>,
    candidates: Vec<Candidate>,
    stylesheets: Vec<String>,
    styles: Vec<String>,
    title: String,
    texts_seen: usize,
}

impl Splitter {
    pub fn new(max_depth: usize) -> Self {
        Splitter {
            max_depth,
            ..Splitter::default()
        }
    }

    fn push_space(&mut self, owner: Option<usize>) {
        if let Some(owner) = owner {
            self.candidates[owner].raw.push(' ');
        }
    }

    /// Records the start of element `el`, whose tag name is `tag`. Reads the element as the
    /// book wrote it, so it must see the element before anything rewrites it.
    pub fn open(&mut self, el: &Element, tag: &str) -> Result<Opened, TooDeep> {
        if self.stack.len() >= self.max_depth {
            return Err(TooDeep);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let name = local_name(tag);
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
            || tag.contains(':')
            || match el.get_attribute("xmlns") {
                Some(ns) => ns.trim() != XHTML_NS,
                // An HTML element directly in SVG or MathML is at an integration point
                // (`foreignObject`), where XHTML starts again.
                None => parent_foreign && !parent_parsed,
            };
        let ignored = parent_ignored || IGNORED.contains(&name);
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
        let block = !ignored && !foreign && !is_root && BLOCKS.contains(&name);
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
                path,
                raw: String::new(),
                first_text: None,
            });
            Some(self.candidates.len() - 1)
        } else {
            parent_owner
        };
        let candidate = if block { owner } else { None };
        if !el.can_have_content() {
            return Ok(Opened {
                seq,
                stays_open: false,
                candidate,
            });
        }
        self.stack.push(Open {
            seq,
            name: name.to_owned(),
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
        Ok(Opened {
            seq,
            stays_open: true,
            candidate,
        })
    }

    /// Closes the element numbered `seq` and any element left open inside it (lol_html does
    /// not report end tags of implicitly closed elements).
    pub fn close(&mut self, seq: usize) {
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

    pub fn text(&mut self, chunk: &TextChunk) {
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

    /// The passages in reading order, and what the head held.
    pub fn finish(self) -> Analysis {
        let Splitter {
            candidates,
            stylesheets,
            styles,
            title,
            ..
        } = self;
        let count = candidates.len();
        let mut numbered: Vec<(usize, Candidate)> = candidates.into_iter().enumerate().collect();
        numbered.sort_by_key(|(_, c)| c.first_text);
        let passages = numbered
            .into_iter()
            .filter_map(|(candidate, c)| {
                let text = text::normalize(&text::decode_entities(&c.raw));
                (!text.is_empty()).then_some(Found {
                    candidate,
                    path: c.path,
                    text,
                })
            })
            .collect();
        let title = text::normalize(&text::decode_entities(&title));
        Analysis {
            passages,
            candidates: count,
            stylesheets,
            styles,
            title: (!title.is_empty()).then_some(title),
        }
    }
}

/// The local name in a tag name as lol_html's `tag_name` gives it (lowercased): `svg:rect` is
/// `rect`.
pub fn local_name(tag: &str) -> &str {
    tag.rsplit(':').next().unwrap_or(tag)
}
