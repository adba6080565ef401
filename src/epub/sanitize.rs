//! Sanitizing XHTML (chapters, and SVG/XHTML resources) with lol_html.
//!
//! Removed: scripts and other active or embedding elements, form controls, `meta`, `base`,
//! links other than the book's own stylesheets, SVG animation elements (they can set an `href`),
//! every `on*` attribute, every attribute whose value is a script or HTML `data:` URL, and every
//! URL that would fetch from outside the book. Kept: external `<a href>` links (they fetch
//! nothing until clicked), with `rel="noopener noreferrer"`. Rewritten: links to chapters and
//! resources, to where Scholia serves them; CSS in `style` elements and attributes.

use std::cell::RefCell;

use lol_html::html_content::{ContentType, Element, TextChunk, TextType};
use lol_html::{RewriteStrSettings, element, rewrite_str, text};

use super::passages::local_name;
use super::urls::{Book, Target};
use super::{css, text as txt};

/// Attributes naming a document to navigate to.
const LINK_ATTRS: &[&str] = &["href", "xlink:href", "cite", "longdesc"];
/// Attributes naming something the browser loads on sight.
const LOAD_ATTRS: &[&str] = &["src", "poster", "data", "background", "lowsrc", "dynsrc"];
/// Attributes with no use in a book that can fetch or submit.
const DROP_ATTRS: &[&str] = &[
    "action",
    "formaction",
    "ping",
    "manifest",
    "codebase",
    "classid",
    "archive",
    "profile",
    "icon",
    "srcdoc",
    "xml:base",
    "data-passage",
];

/// Elements removed with their content (also [`super::passages::IGNORED`], so no passage text is lost).
const REMOVE_WITH_CONTENT: &[&str] = &[
    "script",
    "noscript",
    "template",
    "iframe",
    "frame",
    "frameset",
    "noembed",
    "noframes",
    "textarea",
    "select",
    "applet",
    "embed",
    "input",
    "meta",
    "base",
    "param",
    "keygen",
    "set",
    "animate",
    "animatemotion",
    "animatetransform",
    "portal",
];
/// Elements replaced by their content: their text is part of passages.
const UNWRAP: &[&str] = &["form", "button", "object"];
/// Values that make an attribute a script, whatever the attribute (SVG `values`, `to`...).
const SCRIPT_VALUES: &[&str] = &["javascript:", "vbscript:", "data:text/html"];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A spine document: its body's content goes under one root ([`wrap_chapter`]); the
    /// chapter pass also removes its head, doctype and comments.
    Chapter,
    /// A document served as a resource (SVG image, non-spine XHTML): the whole document.
    Resource,
}

/// The `lang` and `dir` of a chapter's `<html>`, for the root that replaces it.
#[derive(Default)]
pub struct Root {
    lang: Option<String>,
    dir: Option<String>,
}

/// Sanitizes the elements and `<style>` text of the document at zip path `from` as a lol_html
/// pass meets them.
pub struct Sanitizer<'a> {
    from: &'a str,
    book: &'a Book,
    mode: Mode,
    root: RefCell<Root>,
    /// The text of the `<style>` element being read.
    style: RefCell<String>,
}

impl<'a> Sanitizer<'a> {
    pub fn new(from: &'a str, book: &'a Book, mode: Mode) -> Self {
        Sanitizer {
            from,
            book,
            mode,
            root: RefCell::default(),
            style: RefCell::default(),
        }
    }

    /// Sanitizes an element whose local name (see [`local_name`]) is `name`.
    pub fn element(&self, el: &mut Element, name: &str) {
        let (from, book) = (self.from, self.book);
        if REMOVE_WITH_CONTENT.contains(&name) {
            el.remove();
            return;
        }
        if UNWRAP.contains(&name) {
            el.remove_and_keep_content();
        }
        if name == "link" && !is_stylesheet(el) {
            el.remove();
            return;
        }
        if self.mode == Mode::Chapter {
            match name {
                "html" => {
                    let mut root = self.root.borrow_mut();
                    root.lang = el
                        .get_attribute("xml:lang")
                        .or_else(|| el.get_attribute("lang"))
                        .map(|v| txt::decode_entities(&v).into_owned());
                    root.dir = el
                        .get_attribute("dir")
                        .map(|v| txt::decode_entities(&v).into_owned());
                    el.remove_and_keep_content();
                    return;
                }
                "body" => {
                    // Only the tag name changes: `<div>` can live inside the reader's page.
                    let _ = el.set_tag_name("div");
                    let _ = el.set_attribute("data-epub-body", "");
                }
                _ => {}
            }
        }
        // A book's own `data-passage` attributes would impersonate passages (DROP_ATTRS).
        sanitize_attributes(el, name, from, book);
    }

    /// Collects a `<style>` element's text and replaces it, at its end, with sanitized CSS.
    pub fn style_text(&self, chunk: &mut TextChunk) {
        sanitize_style_text(chunk, &self.style, self.from, self.book);
    }

    pub fn into_root(self) -> Root {
        self.root.into_inner()
    }
}

/// Sanitizes a document served as a resource.
pub fn sanitize_resource(html: &str, from: &str, book: &Book) -> Result<String, String> {
    let sanitizer = Sanitizer::new(from, book, Mode::Resource);
    rewrite_str(
        html,
        RewriteStrSettings {
            element_content_handlers: vec![
                element!("*", |el| {
                    sanitizer.element(el, local_name(&el.tag_name()));
                    Ok(())
                }),
                text!("style", |chunk| {
                    sanitizer.style_text(chunk);
                    Ok(())
                }),
            ],
            strict: false,
            ..RewriteStrSettings::new()
        },
    )
    .map_err(|e| e.to_string())
}

/// A sanitized chapter body under the chapter's root, `<div class="scholia-chapter">` with the
/// document's `lang` and `dir`, which starts with the `stylesheets` (served URLs) and `styles`
/// (sanitized CSS) from the chapter's head.
pub fn wrap_chapter(root: &Root, stylesheets: &[String], styles: &[String], body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 256);
    out.push_str("<div class=\"scholia-chapter\"");
    for (name, value) in [("lang", &root.lang), ("dir", &root.dir)] {
        if let Some(value) = value {
            out.push_str(&format!(" {name}=\"{}\"", escape_attr(value)));
        }
    }
    out.push('>');
    for href in stylesheets {
        out.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"{}\"/>",
            escape_attr(href)
        ));
    }
    for style in styles {
        out.push_str(&format!("<style>{style}</style>"));
    }
    out.push_str(body.trim());
    out.push_str("</div>");
    out
}

/// Whether the value, without whitespace and control characters, names a script. Every such
/// value has a `:`, which spares squeezing the others.
fn is_script_value(value: &str) -> bool {
    if !value.contains(':') {
        return false;
    }
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    SCRIPT_VALUES.iter().any(|s| squeezed.contains(s))
}

fn is_stylesheet(el: &Element) -> bool {
    el.get_attribute("rel").is_some_and(|rel| {
        rel.split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("stylesheet"))
    })
}

fn sanitize_attributes(el: &mut Element, element: &str, from: &str, book: &Book) {
    let attributes: Vec<(String, String)> = el
        .attributes()
        .iter()
        .map(|a| (a.name(), txt::decode_entities(&a.value()).into_owned()))
        .collect();
    let navigates = matches!(element, "a" | "area");
    for (name, value) in attributes {
        if name.starts_with("on") || DROP_ATTRS.contains(&name.as_str()) || is_script_value(&value)
        {
            el.remove_attribute(&name);
            continue;
        }
        let rewritten =
            if LINK_ATTRS.contains(&name.as_str()) && (navigates || !name.ends_with("href")) {
                match book.resolve(from, &value) {
                    Target::Chapter(index, fragment) => {
                        Some(book.chapter_url(index, fragment.as_deref()))
                    }
                    Target::Fragment(fragment) => Some(book.fragment_url(from, &fragment)),
                    Target::Resource(path, fragment) => {
                        Some(book.resource_url(&path, fragment.as_deref()))
                    }
                    Target::External => {
                        if navigates {
                            let _ = el.set_attribute("rel", "noopener noreferrer");
                        }
                        Some(value)
                    }
                    Target::InertData | Target::Unusable => None,
                }
            } else if LOAD_ATTRS.contains(&name.as_str()) || name.ends_with("href") {
                load_url(book, from, &value)
            } else if name == "srcset" {
                srcset(book, from, &value)
            } else if name == "style" {
                Some(css::sanitize(&value, from, book)).filter(|s| !s.trim().is_empty())
            } else {
                continue;
            };
        match rewritten {
            Some(v) => {
                let _ = el.set_attribute(&name, &v);
            }
            None => el.remove_attribute(&name),
        }
    }
}

/// A URL the browser loads: only the book's own resources, an in-document fragment (SVG
/// `<use href="#x">`) or an inert `data:` image.
fn load_url(book: &Book, from: &str, value: &str) -> Option<String> {
    match book.resolve(from, value) {
        Target::Resource(path, fragment) => Some(book.resource_url(&path, fragment.as_deref())),
        Target::Fragment(fragment) => Some(format!("#{fragment}")),
        Target::InertData => Some(value.to_owned()),
        Target::Chapter(..) | Target::External | Target::Unusable => None,
    }
}

fn srcset(book: &Book, from: &str, value: &str) -> Option<String> {
    let candidates: Vec<String> = value
        .split(',')
        .filter_map(|candidate| {
            let mut parts = candidate.split_whitespace();
            let url = parts.next()?;
            let descriptor: Vec<&str> = parts.collect();
            let rewritten = match book.resolve(from, url) {
                Target::Resource(path, _) => book.resource_url(&path, None),
                _ => return None,
            };
            Some(
                std::iter::once(rewritten.as_str())
                    .chain(descriptor)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect();
    (!candidates.is_empty()).then(|| candidates.join(", "))
}

/// Collects a `<style>` element's text and replaces it, at its end, with sanitized CSS. In
/// HTML the text is raw; in SVG it is XML text, with character references.
fn sanitize_style_text(chunk: &mut TextChunk, buffer: &RefCell<String>, from: &str, book: &Book) {
    let raw = chunk.text_type() != TextType::Data;
    let mut buffer = buffer.borrow_mut();
    if raw {
        buffer.push_str(chunk.as_str());
    } else {
        buffer.push_str(&txt::decode_entities(chunk.as_str()));
    }
    chunk.remove();
    if chunk.last_in_text_node() {
        let css_text = std::mem::take(&mut *buffer);
        if raw {
            chunk.replace(
                &css::sanitize_for_style_element(&css_text, from, book),
                ContentType::Html,
            );
        } else {
            chunk.replace(&css::sanitize(&css_text, from, book), ContentType::Text);
        }
    }
}

pub fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
