//! Finding a chapter's passage candidates in its XHTML, where their CFIs are counted.
//!
//! [`Splitter`] is fed the (self-closing-expanded) document's elements by the chapter's one
//! lol_html pass ([`super::chapter`]). It keeps a stack of open elements, so it needs no
//! recursion and refuses nesting deeper than the limit. Every block element that may be a
//! passage is a candidate, numbered in document order, with its CFI path. Which candidates are
//! passages, their text and their order come later, from the tree a browser builds
//! ([`super::passage_text`]): CFIs follow the XHTML, text follows what the reader shows.

use lol_html::html_content::{Element, TextChunk};

use super::cfi::Step;
use super::text;

const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Elements that can be passages; one holding no text of its own (a blockquote of
/// paragraphs, a list) is not one.
pub const BLOCKS: &[&str] = &[
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

/// Elements whose content is not part of the document's body text.
const IGNORED: &[&str] = &["head", "script", "style", "template", "noscript", "title"];

pub struct Analysis {
    /// Each candidate's CFI path, by candidate number.
    pub candidates: Vec<Vec<Step>>,
    /// `href`s of the head's `<link rel="stylesheet">`s (not alternate ones), entity-decoded,
    /// unresolved.
    pub stylesheets: Vec<String>,
    /// Contents of `<style>` elements in the head.
    pub styles: Vec<String>,
    pub title: Option<String>,
    /// `width` and `height` of the head's `<meta name="viewport">`.
    pub viewport: Option<(u32, u32)>,
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
    /// Not in the XHTML namespace (SVG, MathML, or e.g. CML inside `epub:switch`), where
    /// `caption` or `p` are not HTML blocks.
    foreign: bool,
    /// lol_html parses it as SVG or MathML.
    parsed_foreign: bool,
}

/// The state of the walk through one chapter.
#[derive(Default)]
pub struct Splitter {
    max_depth: usize,
    next_seq: usize,
    stack: Vec<Open>,
    candidates: Vec<Vec<Step>>,
    stylesheets: Vec<String>,
    styles: Vec<String>,
    title: String,
    viewport: Option<(u32, u32)>,
}

impl Splitter {
    pub fn new(max_depth: usize) -> Self {
        Splitter {
            max_depth,
            ..Splitter::default()
        }
    }

    /// Records the start of element `el`, whose tag name is `tag`. Reads the element as the
    /// book wrote it, so it must see the element before anything rewrites it.
    pub fn open(&mut self, el: &Element, tag: &str) -> Result<Opened, TooDeep> {
        let name = local_name(tag);
        if name == "p" {
            self.close_open_paragraph();
        }
        if self.stack.len() >= self.max_depth {
            return Err(TooDeep);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = el
            .get_attribute("id")
            .map(|id| text::decode_entities(&id).into_owned());
        let parent = self.stack.last_mut();
        let is_root = parent.is_none();
        let (step, parent_ignored, parent_in_head, parent_foreign, parent_parsed) = match parent {
            Some(parent) => {
                parent.element_children += 1;
                (
                    2 * parent.element_children,
                    parent.ignored,
                    parent.in_head,
                    parent.foreign,
                    parent.parsed_foreign,
                )
            }
            None => (0, false, false, false, false),
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
            let rel = el
                .get_attribute("rel")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
            // An alternate stylesheet is for the reader to choose; Scholia offers no choice.
            if rels.contains(&"stylesheet") && !rels.contains(&"alternate") {
                if let Some(href) = el.get_attribute("href") {
                    self.stylesheets
                        .push(text::decode_entities(&href).into_owned());
                }
            }
        }
        if in_head && name == "meta" && el.get_attribute("name").as_deref() == Some("viewport") {
            self.viewport = el.get_attribute("content").as_deref().and_then(viewport);
        }
        if in_head && name == "style" {
            self.styles.push(String::new());
        }
        let candidate = (!ignored && !foreign && !is_root && BLOCKS.contains(&name)).then(|| {
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
            self.candidates.push(path);
            self.candidates.len() - 1
        });
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
            foreign,
            parsed_foreign,
        });
        Ok(Opened {
            seq,
            stays_open: true,
            candidate,
        })
    }

    /// A `<p>` ends an open paragraph, as in HTML: sloppy chapters leave `<p>`s unclosed, and
    /// those do not nest (nor would they count against the depth limit).
    fn close_open_paragraph(&mut self) {
        const SCOPE: &[&str] = &[
            "applet", "button", "caption", "html", "marquee", "object", "table", "td", "template",
            "th",
        ];
        for (depth, open) in self.stack.iter().enumerate().rev() {
            if open.foreign || SCOPE.contains(&open.name.as_str()) {
                return;
            }
            if open.name == "p" {
                self.stack.truncate(depth);
                return;
            }
        }
    }

    /// Closes the element numbered `seq` and any element left open inside it (lol_html does
    /// not report end tags of implicitly closed elements).
    pub fn close(&mut self, seq: usize) {
        if let Some(depth) = self.stack.iter().rposition(|open| open.seq == seq) {
            self.stack.truncate(depth);
        }
    }

    /// Collects the head's `<title>` and `<style>` texts.
    pub fn text(&mut self, chunk: &TextChunk) {
        let Some(top) = self.stack.last() else { return };
        if top.in_head && top.name == "title" {
            self.title.push_str(chunk.as_str());
        } else if top.in_head && top.name == "style" {
            if let Some(style) = self.styles.last_mut() {
                style.push_str(chunk.as_str());
            }
        }
    }

    /// The candidates' paths, and what the head held.
    pub fn finish(self) -> Analysis {
        let title = text::normalize(&text::decode_entities(&self.title));
        Analysis {
            candidates: self.candidates,
            stylesheets: self.stylesheets,
            styles: self.styles,
            title: (!title.is_empty()).then_some(title),
            viewport: self.viewport,
        }
    }
}

/// `width=1474, height=2324` as numbers of CSS pixels.
fn viewport(content: &str) -> Option<(u32, u32)> {
    let value = |key: &str| {
        content.split([',', ';']).find_map(|part| {
            let (name, value) = part.split_once('=')?;
            (name.trim().eq_ignore_ascii_case(key))
                .then(|| value.trim().parse::<f64>().ok())
                .flatten()
                .filter(|v| *v >= 1.0 && *v <= 100_000.0)
                .map(|v| v.round() as u32)
        })
    };
    Some((value("width")?, value("height")?))
}

/// The local name in a tag name as lol_html's `tag_name` gives it (lowercased): `svg:rect` is
/// `rect`.
pub fn local_name(tag: &str) -> &str {
    tag.rsplit(':').next().unwrap_or(tag)
}
