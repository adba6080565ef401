//! Passage CFIs resolve, in the original XHTML from the zip, to elements whose own text is the
//! passage text. The XML is read by an independent walker (xml-rs), not by the importer.

use std::io::{Cursor, Read};

use crate::common::fixture;
use crate::tree::collapse_whitespace;
use scholia::epub::{Limits, parse};
use xml::reader::{EventReader, ParserConfig, XmlEvent};

const XHTML: &str = "http://www.w3.org/1999/xhtml";

/// The importer's documented passage blocks (in the XHTML namespace) and the elements whose
/// text is not part of a passage's (invisible ones, and ruby readings: DESIGN's passage text is
/// the base text).
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
const IGNORED: &[&str] = &[
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
    "rt",
    "rp",
];

enum Node {
    Element(Element),
    Text(String),
}

struct Element {
    name: String,
    namespace: Option<String>,
    id: Option<String>,
    children: Vec<Node>,
}

impl Element {
    fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    fn is_block(&self) -> bool {
        self.namespace.as_deref() == Some(XHTML) && BLOCKS.contains(&self.name.as_str())
    }

    /// Text outside nested blocks; a nested block or a `<br>` counts as a space.
    fn own_text(&self, out: &mut String) {
        for child in &self.children {
            match child {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) if e.is_block() || e.name == "br" => out.push(' '),
                Node::Element(e) if IGNORED.contains(&e.name.as_str()) => {}
                Node::Element(e) => e.own_text(out),
            }
        }
    }
}

fn tree(xml: &[u8]) -> Element {
    let mut config = ParserConfig::new()
        .cdata_to_characters(true)
        .whitespace_to_characters(true)
        .ignore_comments(true);
    for (name, value) in [
        ("nbsp", "\u{a0}"),
        ("mdash", "\u{2014}"),
        ("ndash", "\u{2013}"),
        ("hellip", "\u{2026}"),
    ] {
        config = config.add_entity(name, value);
    }
    let mut stack = vec![Element {
        name: String::new(),
        namespace: None,
        id: None,
        children: vec![],
    }];
    for event in EventReader::new_with_config(xml, config) {
        match event.expect("fixture XML parses") {
            XmlEvent::StartElement {
                name, attributes, ..
            } => stack.push(Element {
                name: name.local_name.clone(),
                namespace: name.namespace.clone(),
                id: attributes
                    .iter()
                    .find(|a| a.name.local_name == "id" && a.name.prefix.is_none())
                    .map(|a| a.value.clone()),
                children: vec![],
            }),
            XmlEvent::EndElement { .. } => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(Node::Element(done));
            }
            XmlEvent::Characters(t) | XmlEvent::Whitespace(t) | XmlEvent::CData(t) => {
                stack.last_mut().unwrap().children.push(Node::Text(t))
            }
            _ => {}
        }
    }
    let mut document = stack.pop().unwrap();
    match document
        .children
        .drain(..)
        .find(|n| matches!(n, Node::Element(_)))
    {
        Some(Node::Element(root)) => root,
        _ => panic!("no root element"),
    }
}

/// `(spine step, idref, [(step, id)])` of `epubcfi(/6/N[idref]!/a[id]/b...)`.
fn parse_cfi(cfi: &str) -> (usize, String, Vec<(usize, Option<String>)>) {
    let inner = cfi
        .strip_prefix("epubcfi(")
        .and_then(|c| c.strip_suffix(')'))
        .expect("epubcfi(...)");
    let (package, content) = inner.split_once('!').expect("one indirection");
    let steps = |path: &str| -> Vec<(usize, Option<String>)> {
        path.split('/')
            .skip(1)
            .map(|step| match step.split_once('[') {
                Some((n, rest)) => (
                    n.parse().unwrap(),
                    Some(rest.strip_suffix(']').unwrap().replace('^', "")),
                ),
                None => (step.parse().unwrap(), None),
            })
            .collect()
    };
    let package = steps(package);
    assert_eq!(package.len(), 2, "{cfi}");
    assert_eq!(package[0], (6, None), "{cfi}: /6 is the spine");
    (
        package[1].0,
        package[1].1.clone().expect("idref assertion"),
        steps(content),
    )
}

#[test]
fn cfis_resolve_to_the_passage_text_in_the_original_xhtml() {
    for name in [
        "metamorphosis-epub2.epub",
        "georgia-cfi.epub",
        "internallinks.epub",
        "wasteland.epub",
        "hefty-water.epub",
    ] {
        let bytes = fixture(name);
        let book = parse(&bytes, &Limits::default(), "/b").unwrap();
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let mut checked = 0;
        let mut with_id = 0;
        for chapter in &book.chapters {
            let mut xml = Vec::new();
            zip.by_name(&chapter.href)
                .unwrap()
                .read_to_end(&mut xml)
                .unwrap();
            let root = tree(&xml);
            for passage in &chapter.passages {
                let (spine_step, idref, path) = parse_cfi(&passage.cfi);
                assert_eq!(
                    spine_step,
                    2 * (chapter.index + 1),
                    "{name} {}",
                    passage.cfi
                );
                assert_eq!(idref, chapter.idref, "{name} {}", passage.cfi);
                let mut element = &root;
                for (step, id) in &path {
                    assert!(
                        step % 2 == 0 && *step > 0,
                        "{name} {}: element steps are even",
                        passage.cfi
                    );
                    element = element
                        .elements()
                        .nth(step / 2 - 1)
                        .unwrap_or_else(|| panic!("{name} {}: no child {step}", passage.cfi));
                    assert_eq!(id, &element.id, "{name} {}: id assertion", passage.cfi);
                    with_id += usize::from(id.is_some());
                }
                let mut text = String::new();
                element.own_text(&mut text);
                assert_eq!(
                    collapse_whitespace(&text),
                    passage.text,
                    "{name} {}",
                    passage.cfi
                );
                checked += 1;
            }
        }
        assert!(checked > 10, "{name}: only {checked} passages");
        if name != "metamorphosis-epub2.epub" {
            assert!(with_id > 0, "{name}: no id assertions exercised");
        }
    }
}
