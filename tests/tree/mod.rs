//! What a browser builds from a sanitized chapter, read independently of the importer: the
//! HTML fragment parsing algorithm (html5ever, as `innerHTML` in the reader's page runs it),
//! checks of what in that tree could run or fetch, and the passage text rule of DESIGN.md.

use html5ever::serialize::{self as html_serialize};
use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::{QuirksMode, TreeBuilderOpts};
use html5ever::{ParseOpts, QualName, local_name, ns};
use markup5ever_rcdom::{Handle, NodeData, RcDom, SerializableHandle};

/// A parsed fragment; the document is kept, as dropping it empties the tree.
pub struct Tree {
    _dom: RcDom,
    pub root: Handle,
}

pub fn parse(html: &str) -> Tree {
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts {
            scripting_enabled: true,
            quirks_mode: QuirksMode::NoQuirks,
            ..TreeBuilderOpts::default()
        },
        ..ParseOpts::default()
    };
    let context = QualName::new(None, ns!(html), local_name!("div"));
    let dom =
        html5ever::parse_fragment(RcDom::default(), opts, context, Vec::new(), true).one(html);
    let root = dom.document.children.borrow()[0].clone();
    Tree { _dom: dom, root }
}

/// The fragment written back as `innerHTML` reads it.
pub fn serialize(tree: &Tree) -> String {
    let mut out = Vec::new();
    let opts = html_serialize::SerializeOpts {
        scripting_enabled: true,
        traversal_scope: html_serialize::TraversalScope::ChildrenOnly(None),
        create_missing_parent: false,
    };
    html_serialize::serialize(&mut out, &SerializableHandle::from(tree.root.clone()), opts)
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// Every element below `node`, in document order.
pub fn elements(node: &Handle) -> Vec<Handle> {
    let mut out = Vec::new();
    let mut stack = vec![node.clone()];
    while let Some(node) = stack.pop() {
        if matches!(node.data, NodeData::Element { .. }) {
            out.push(node.clone());
        }
        stack.extend(node.children.borrow().iter().rev().cloned());
    }
    out
}

pub fn name(el: &Handle) -> (String, String) {
    match &el.data {
        NodeData::Element { name, .. } => (name.ns.to_string(), name.local.to_string()),
        _ => unreachable!(),
    }
}

pub fn attributes(el: &Handle) -> Vec<(String, String)> {
    match &el.data {
        NodeData::Element { attrs, .. } => attrs
            .borrow()
            .iter()
            .map(|a| {
                let prefix = if a.name.ns == ns!(xlink) {
                    "xlink:"
                } else {
                    ""
                };
                (format!("{prefix}{}", a.name.local), a.value.to_string())
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub fn attribute(el: &Handle, wanted: &str) -> Option<String> {
    attributes(el)
        .into_iter()
        .find(|(name, _)| name == wanted)
        .map(|(_, value)| value)
}

pub fn text_of(node: &Handle) -> String {
    let mut out = String::new();
    for child in node.children.borrow().iter() {
        match &child.data {
            NodeData::Text { contents } => out.push_str(&contents.borrow()),
            _ => out.push_str(&text_of(child)),
        }
    }
    out
}

/// Elements that run, embed, navigate or submit when a page holds them.
const ACTIVE: &[&str] = &[
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "meta",
    "base",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "template",
    "noscript",
    "portal",
    "animate",
    "animatemotion",
    "animatetransform",
    "set",
    "handler",
    "listener",
    "annotation-xml",
    "mglyph",
    "malignmark",
];

/// Panics, naming `what`, if the tree holds anything that could run script, navigate by itself
/// or load from outside `base` (the book's served URLs).
pub fn assert_inert(what: &str, tree: &Tree, base: &str) {
    for el in elements(&tree.root) {
        let (_, local) = name(&el);
        let lower = local.to_ascii_lowercase();
        assert!(
            !ACTIVE.contains(&lower.as_str()),
            "{what}: a live <{local}>"
        );
        for (attr, value) in attributes(&el) {
            let squeezed: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            assert!(
                !attr.to_ascii_lowercase().starts_with("on"),
                "{what}: {attr} on <{local}>"
            );
            for scheme in ["javascript:", "vbscript:", "data:text/html"] {
                assert!(
                    !squeezed.contains(scheme),
                    "{what}: {attr}={value:?} on <{local}>"
                );
            }
            let loads = matches!(
                attr.as_str(),
                "src" | "srcset" | "poster" | "data" | "background"
            ) || (attr.ends_with("href") && !matches!(lower.as_str(), "a" | "area"));
            if loads {
                for url in value.split(',').filter_map(|c| c.split_whitespace().next()) {
                    assert!(
                        url.starts_with(base)
                            || url.starts_with('#')
                            || url.starts_with("data:image/"),
                        "{what}: <{local} {attr}={value:?}> loads from outside the book"
                    );
                }
            }
            if attr == "style" || value.to_ascii_lowercase().contains("url(") {
                assert_css_stays_home(what, &value, base);
            }
        }
        if lower == "style" {
            assert_css_stays_home(what, &text_of(&el), base);
        }
    }
}

/// Every `url(` in the CSS points into the book, and nothing else in it can fetch.
pub fn assert_css_stays_home(what: &str, css: &str, base: &str) {
    let lower = css.to_ascii_lowercase();
    for bad in [
        "expression(",
        "javascript:",
        "image-set(",
        "-moz-binding",
        "behavior",
        "\\",
    ] {
        assert!(!lower.contains(bad), "{what}: {bad} in CSS {css:?}");
    }
    for (at, _) in lower.match_indices("url(") {
        let rest = css[at + 4..].trim_start_matches(['"', '\'']);
        assert!(
            rest.starts_with(base)
                || rest.starts_with('#')
                || rest.starts_with("data:image/")
                || rest.starts_with("data:font/"),
            "{what}: CSS loads {:?}",
            &css[at..(at + 80).min(css.len())]
        );
    }
    for (at, _) in lower.match_indices("@import") {
        assert!(
            css[at..].starts_with(&format!("@import url(\"{base}")),
            "{what}: CSS imports {:?}",
            &css[at..(at + 80).min(css.len())]
        );
    }
}

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

/// DESIGN's passage text, as the reader computes it from the page: text nodes, without ruby
/// readings (nor script, style, template); a nested passage or a `<br>` is a space, another
/// HTML block a space on each side; whitespace collapsed.
pub fn passage_text(el: &Handle) -> String {
    fn walk(node: &Handle, out: &mut String) {
        for child in node.children.borrow().iter() {
            match &child.data {
                NodeData::Text { contents } => out.push_str(&contents.borrow()),
                NodeData::Element { name, .. } => {
                    let html = name.ns == ns!(html);
                    let local = &*name.local;
                    if ["rt", "rp", "script", "style", "template"].contains(&local) {
                    } else if attribute(child, "data-passage").is_some() || (html && local == "br")
                    {
                        out.push(' ');
                    } else if html && BLOCKS.contains(&local) {
                        out.push(' ');
                        walk(child, out);
                        out.push(' ');
                    } else {
                        walk(child, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut raw = String::new();
    walk(el, &mut raw);
    collapse_whitespace(&raw)
}

/// `text` with each run of HTML's ASCII whitespace one space, and none at either end.
pub fn collapse_whitespace(text: &str) -> String {
    text.split([' ', '\t', '\n', '\r', '\x0C'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The passages in the tree, `(id, text)` in document order of their elements.
pub fn passages(tree: &Tree) -> Vec<(String, String)> {
    elements(&tree.root)
        .into_iter()
        .filter_map(|el| Some((attribute(&el, "data-passage")?, passage_text(&el))))
        .collect()
}
