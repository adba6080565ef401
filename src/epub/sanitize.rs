//! Sanitizing a chapter as the tree a browser builds from it (see [`super::dom`]).
//!
//! A token rewriter cannot see what a browser's parser will make of its output: inside MathML
//! and SVG the HTML parser's rules differ, and text that is inert in one parse becomes markup in
//! the next (mutation XSS). So the chapter is parsed as the reader's `innerHTML` will parse it,
//! the tree is sanitized against allow-lists, serialized, and parsed and sanitized again until
//! nothing changes ([`super::chapter`] refuses a chapter that does not settle).
//!
//! Kept: the HTML, SVG and MathML elements books use, each only where the parser itself puts
//! that namespace (an `<svg>` below HTML, HTML below `foreignObject` or `<mtext>`...), so that
//! no element sits where a re-parse would move it. Removed with their content: scripts,
//! embedding and form elements, `meta`/`base`, SVG animation, MathML annotations and the MathML
//! elements the parser treats specially (`mglyph`, `malignmark`), comments. Unwrapped (content
//! kept, as passages need its text): any other HTML element. Attributes: every `on*` and
//! fetching or scripting one goes; URLs point only into the book (links may leave it, with
//! `rel="noopener noreferrer"`); CSS goes through [`super::css`].

use std::rc::Rc;

use html5ever::{LocalName, Namespace, QualName, local_name, ns};
use markup5ever_rcdom::{Handle, Node, NodeData};

use super::css;
use super::dom::{self, element_name};
use super::urls::{Book, Target};

/// HTML elements kept as they are.
const HTML_KEEP: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "article",
    "aside",
    "audio",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "main",
    "mark",
    "menu",
    "nav",
    "nobr",
    "ol",
    "p",
    "picture",
    "pre",
    "q",
    "rb",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "section",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
];
/// HTML elements removed with their content: active, embedding, form controls, metadata.
const HTML_REMOVE: &[&str] = &[
    "applet", "base", "basefont", "bgsound", "dialog", "embed", "frame", "frameset", "head",
    "iframe", "input", "keygen", "meta", "noembed", "noframes", "noscript", "optgroup", "option",
    "param", "portal", "script", "select", "template", "textarea", "title",
];
/// HTML elements whose content is raw text that the serializer writes unescaped: their text is
/// kept as a `<pre>`, where it is ordinary, escaped text.
const HTML_RAW_TEXT: &[&str] = &["listing", "plaintext", "xmp"];

/// SVG elements kept (names as the parser adjusts their case).
const SVG_KEEP: &[&str] = &[
    "a",
    "circle",
    "clipPath",
    "defs",
    "desc",
    "ellipse",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feImage",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
    "filter",
    "foreignObject",
    "g",
    "image",
    "line",
    "linearGradient",
    "marker",
    "mask",
    "path",
    "pattern",
    "polygon",
    "polyline",
    "radialGradient",
    "rect",
    "stop",
    "style",
    "svg",
    "switch",
    "symbol",
    "text",
    "textPath",
    "title",
    "tspan",
    "use",
    "view",
];
/// MathML elements kept. Not `mglyph` and `malignmark` (the parser keeps them in MathML even
/// below a text integration point, the root of the known MathML mutations), nor annotations.
const MATHML_KEEP: &[&str] = &[
    "math",
    "menclose",
    "merror",
    "mfenced",
    "mfrac",
    "mi",
    "mlabeledtr",
    "mmultiscripts",
    "mn",
    "mo",
    "mover",
    "mpadded",
    "mphantom",
    "mprescripts",
    "mroot",
    "mrow",
    "ms",
    "mspace",
    "msqrt",
    "mstyle",
    "msub",
    "msubsup",
    "msup",
    "mtable",
    "mtd",
    "mtext",
    "mtr",
    "munder",
    "munderover",
    "none",
    "semantics",
];
/// Where the parser lets HTML elements into SVG and MathML.
const SVG_HTML_INTEGRATION: &[&str] = &["foreignObject", "desc", "title"];
const MATHML_TEXT_INTEGRATION: &[&str] = &["mi", "mo", "mn", "ms", "mtext"];

/// Attributes naming a document to navigate to.
const LINK_ATTRS: &[&str] = &["href", "cite", "longdesc"];
/// Attributes naming something the browser loads on sight.
const LOAD_ATTRS: &[&str] = &["src", "poster", "data", "background", "lowsrc", "dynsrc"];
/// Attributes with no use in a book that fetch, submit, run or take over the page.
const DROP_ATTRS: &[&str] = &[
    "action",
    "archive",
    "autofocus",
    "classid",
    "codebase",
    "contenteditable",
    "formaction",
    "http-equiv",
    "icon",
    "is",
    "manifest",
    "nonce",
    "ping",
    "popover",
    "popovertarget",
    "popovertargetaction",
    "profile",
    "srcdoc",
    "xml:base",
];
/// Values that make an attribute a script, whatever the attribute.
const SCRIPT_VALUES: &[&str] = &["javascript:", "vbscript:", "data:text/html"];

/// The attribute a passage element carries its id in, once [`super::chapter`] set it.
pub const PASSAGE_ATTR: &str = "data-passage";
/// Attributes of the book that would be taken for Scholia's own passage marks.
const RESERVED_ATTR_PREFIX: &str = "data-scholia-";

/// What a sanitizing pass keeps besides what every pass keeps.
pub struct Policy<'a> {
    /// The zip path of the chapter, which its relative URLs start from.
    pub from: &'a str,
    pub book: &'a Book,
    /// The attribute name [`super::chapter`] marked passage candidates with; kept.
    pub marker: Option<&'a str>,
    /// Keep `data-passage`: the tree is Scholia's own output, parsed again.
    pub keep_passages: bool,
}

/// What happens to an element.
enum Action {
    Keep,
    Remove,
    Unwrap,
    /// Replaced by a `<pre>` holding its text.
    Pre,
}

/// Sanitizes the children of `parent` (a tree's root, or an element kept) in place.
pub fn sanitize_tree(parent: &Handle, policy: &Policy) {
    let parent_name = element_name(parent).cloned();
    let mut i = 0;
    loop {
        let Some(child) = parent.children.borrow().get(i).cloned() else {
            break;
        };
        let action = match &child.data {
            NodeData::Text { .. } => Action::Keep,
            NodeData::Element { name, .. } => element_action(name, parent_name.as_ref()),
            _ => Action::Remove,
        };
        match action {
            Action::Keep => {
                if let NodeData::Element { name, .. } = &child.data {
                    if !sanitize_element(&child, name, policy) {
                        parent.children.borrow_mut().remove(i);
                        continue;
                    }
                    sanitize_tree(&child, policy);
                }
                i += 1;
            }
            Action::Remove => {
                parent.children.borrow_mut().remove(i);
            }
            Action::Unwrap => {
                // Its children take its place and are judged in the parent's context.
                let children = std::mem::take(&mut *child.children.borrow_mut());
                for grandchild in &children {
                    grandchild.parent.set(Some(Rc::downgrade(parent)));
                }
                parent.children.borrow_mut().splice(i..=i, children);
            }
            Action::Pre => {
                let pre = Node::new(NodeData::Element {
                    name: QualName::new(None, ns!(html), local_name!("pre")),
                    attrs: Default::default(),
                    template_contents: Default::default(),
                    mathml_annotation_xml_integration_point: false,
                });
                let text = text_content(&child);
                append_text(&pre, &text);
                pre.parent.set(Some(Rc::downgrade(parent)));
                parent.children.borrow_mut()[i] = pre;
                i += 1;
            }
        }
    }
}

fn element_action(name: &QualName, parent: Option<&QualName>) -> Action {
    let local = &*name.local;
    if !namespace_fits(name, parent) {
        return Action::Remove;
    }
    match name.ns {
        ns!(html) if HTML_KEEP.contains(&local) => Action::Keep,
        ns!(html) if HTML_REMOVE.contains(&local) => Action::Remove,
        ns!(html) if HTML_RAW_TEXT.contains(&local) => Action::Pre,
        ns!(html) => Action::Unwrap,
        ns!(svg) if SVG_KEEP.contains(&local) => Action::Keep,
        ns!(mathml) if MATHML_KEEP.contains(&local) => Action::Keep,
        _ => Action::Remove,
    }
}

/// Whether an element of this namespace can stand under `parent` in a tree the HTML parser
/// builds. An element anywhere else was put there by a parse that a re-parse would not repeat.
fn namespace_fits(name: &QualName, parent: Option<&QualName>) -> bool {
    let html = Namespace::from("http://www.w3.org/1999/xhtml");
    let (parent_ns, parent_local) = match parent {
        Some(parent) => (&parent.ns, &*parent.local),
        None => (&html, "div"),
    };
    let local = &*name.local;
    // Where the parser treats tags as HTML: below HTML, and at the integration points.
    let html_context = match *parent_ns {
        ns!(html) => true,
        ns!(svg) => SVG_HTML_INTEGRATION.contains(&parent_local),
        ns!(mathml) => MATHML_TEXT_INTEGRATION.contains(&parent_local),
        _ => false,
    };
    match name.ns {
        ns!(svg) => (*parent_ns == ns!(svg) && !html_context) || (html_context && local == "svg"),
        ns!(mathml) => {
            (*parent_ns == ns!(mathml) && !html_context) || (html_context && local == "math")
        }
        // Below an integration point, an HTML element that SVG or MathML also names, or a
        // `<style>`, is what the known mutations are built from.
        ns!(html) if *parent_ns != ns!(html) => {
            html_context && !is_foreign_only_name(local) && local != "style"
        }
        ns!(html) => true,
        _ => false,
    }
}

/// Names of SVG or MathML elements that HTML does not have: an HTML element of such a name was
/// made by a parse that another parse would put in a foreign namespace.
fn is_foreign_only_name(local: &str) -> bool {
    let shared = ["a", "style", "title", "image", "font"];
    !shared.contains(&local)
        && (SVG_KEEP.iter().any(|n| n.eq_ignore_ascii_case(local)) || MATHML_KEEP.contains(&local))
}

/// Sanitizes the element's attributes (and a style element's text); `false` when the element
/// has nothing left to be (a `<link>` that is not one of the book's stylesheets).
fn sanitize_element(el: &Handle, name: &QualName, policy: &Policy) -> bool {
    let NodeData::Element { attrs, .. } = &el.data else {
        return true;
    };
    let local = &*name.local;
    let is_style = local == "style" && matches!(name.ns, ns!(html) | ns!(svg));
    if is_style {
        let css_text = text_content(el);
        el.children.borrow_mut().clear();
        let clean = if name.ns == ns!(html) {
            css::sanitize_for_style_element(&css_text, policy.from, policy.book)
        } else {
            css::sanitize(&css_text, policy.from, policy.book)
        };
        append_text(el, &clean);
    }
    let navigates = local == "a" || local == "area";
    let old = std::mem::take(&mut *attrs.borrow_mut());
    // SVG 2's `href` replaces `xlink:href`, and needs no namespace declared in an SVG file.
    let has_href = old
        .iter()
        .any(|a| a.name.ns == ns!() && &*a.name.local == "href");
    let mut kept = Vec::with_capacity(old.len());
    let mut external_link = false;
    for mut attr in old {
        let attr_name = attribute_name(&attr.name);
        let Some(attr_name) = attr_name else { continue };
        let value = attr.value.to_string();
        if !attribute_allowed(&attr_name, &value, policy) {
            continue;
        }
        let rewritten = if attr_name == "href" || attr_name == "xlink:href" {
            if navigates {
                match link_url(policy, &value) {
                    Some((url, external)) => {
                        external_link |= external;
                        Some(url)
                    }
                    None => None,
                }
            } else {
                load_url(policy, &value)
            }
        } else if LINK_ATTRS.contains(&attr_name.as_str()) {
            link_url(policy, &value).map(|(url, _)| url)
        } else if LOAD_ATTRS.contains(&attr_name.as_str()) {
            load_url(policy, &value)
        } else if attr_name == "srcset" {
            srcset(policy, &value)
        } else if attr_name == "style" {
            Some(css::sanitize_declarations(&value, policy.from, policy.book))
                .filter(|s| !s.trim().is_empty())
        } else if may_hold_css_url(&value) {
            // SVG presentation attributes (`fill`, `filter`, `mask`...) take CSS values.
            css::sanitize_value(&value, policy.from, policy.book)
        } else {
            Some(value)
        };
        if attr_name == "xlink:href" {
            if has_href {
                continue;
            }
            attr.name = QualName::new(None, ns!(), local_name!("href"));
        }
        if let Some(value) = rewritten {
            attr.value = value.into();
            kept.push(attr);
        }
    }
    if external_link {
        kept.retain(|a| &*a.name.local != "rel" || a.name.ns != ns!());
        kept.push(html5ever::Attribute {
            name: QualName::new(None, ns!(), LocalName::from("rel")),
            value: "noopener noreferrer".into(),
        });
    }
    *attrs.borrow_mut() = kept;
    if name.ns == ns!(html) && dom::attribute(el, "lang").is_none() {
        // CSS and fonts go by `lang`; XHTML books often say only `xml:lang`.
        if let Some(lang) = dom::attribute(el, "xml:lang") {
            dom::set_attribute(el, "lang", &lang);
        }
    }
    !(local == "link" && name.ns == ns!(html)) || is_book_stylesheet(el)
}

/// The attribute's name as written in HTML (`xlink:href`, `xml:lang`), or `None` for
/// namespaces a book has no use for (`xmlns` declarations mean nothing in HTML).
fn attribute_name(name: &QualName) -> Option<String> {
    match name.ns {
        ns!() => Some(name.local.to_string()),
        ns!(xlink) if &*name.local == "href" => Some("xlink:href".to_owned()),
        ns!(xml) if &*name.local == "lang" || &*name.local == "space" => {
            Some(format!("xml:{}", name.local))
        }
        _ => None,
    }
}

fn attribute_allowed(name: &str, value: &str, policy: &Policy) -> bool {
    if name.starts_with("on") || DROP_ATTRS.contains(&name) || is_script_value(value) {
        return false;
    }
    if name == PASSAGE_ATTR {
        return policy.keep_passages;
    }
    if name.starts_with(RESERVED_ATTR_PREFIX) {
        return policy.marker == Some(name);
    }
    // The HTML parser only makes names a browser would; these are what HTML can write back.
    name.chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// A `<link>` that is a stylesheet of the book (`rel="stylesheet"`, not alternate), once its
/// `href` was rewritten to where Scholia serves it.
fn is_book_stylesheet(el: &Handle) -> bool {
    let rel = dom::attribute(el, "rel")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
    rels.contains(&"stylesheet")
        && !rels.contains(&"alternate")
        && dom::attribute(el, "href").is_some()
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

/// Whether a value could be CSS that fetches: a `url(`, or a CSS escape that could spell one.
fn may_hold_css_url(value: &str) -> bool {
    value.to_ascii_lowercase().contains("url(") || value.contains('\\')
}

/// A link to follow: into the book, or outside it (the `bool`), which fetches nothing until
/// clicked.
fn link_url(policy: &Policy, value: &str) -> Option<(String, bool)> {
    let book = policy.book;
    match book.resolve(policy.from, value) {
        Target::Chapter(index, fragment) => {
            Some((book.chapter_url(index, fragment.as_deref()), false))
        }
        Target::Fragment(fragment) => Some((book.fragment_url(policy.from, &fragment), false)),
        Target::Resource(path, fragment) => {
            Some((book.resource_url(&path, fragment.as_deref()), false))
        }
        Target::External => Some((value.trim().to_owned(), true)),
        Target::InertData | Target::Unusable => None,
    }
}

/// A URL the browser loads: only the book's own resources, an in-document fragment (SVG
/// `<use href="#x">`) or an inert `data:` image.
fn load_url(policy: &Policy, value: &str) -> Option<String> {
    let book = policy.book;
    match book.resolve(policy.from, value) {
        Target::Resource(path, fragment) => Some(book.resource_url(&path, fragment.as_deref())),
        Target::Fragment(fragment) => Some(format!("#{fragment}")),
        Target::InertData => Some(value.to_owned()),
        Target::Chapter(..) | Target::External | Target::Unusable => None,
    }
}

fn srcset(policy: &Policy, value: &str) -> Option<String> {
    let candidates: Vec<String> = value
        .split(',')
        .filter_map(|candidate| {
            let mut parts = candidate.split_whitespace();
            let url = parts.next()?;
            let descriptor: Vec<&str> = parts.collect();
            let rewritten = match policy.book.resolve(policy.from, url) {
                Target::Resource(path, _) => policy.book.resource_url(&path, None),
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

/// The text of every text node below `node`, in order.
fn text_content(node: &Handle) -> String {
    let mut out = String::new();
    let mut stack = vec![node.clone()];
    while let Some(node) = stack.pop() {
        match &node.data {
            NodeData::Text { contents } => out.push_str(&contents.borrow()),
            _ => stack.extend(node.children.borrow().iter().rev().cloned()),
        }
    }
    out
}

fn append_text(parent: &Handle, text: &str) {
    if text.is_empty() {
        return;
    }
    let node = Node::new(NodeData::Text {
        contents: std::cell::RefCell::new(text.into()),
    });
    node.parent.set(Some(Rc::downgrade(parent)));
    parent.children.borrow_mut().push(node);
}

/// `value` escaped for a double-quoted HTML attribute.
pub fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
