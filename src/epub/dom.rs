//! The tree a browser builds from a chapter: html5ever's HTML parser, as `innerHTML` runs it.
//!
//! The reader puts a chapter into its page with `innerHTML` on an element inside a shadow root
//! of a standards-mode document, with scripting enabled. [`parse_fragment`] parses the same
//! way (the HTML fragment parsing algorithm, `div` context, no quirks, scripting on), so the
//! tree the sanitizer judges and the text passages are counted on are the browser's.

use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::{QuirksMode, TreeBuilderOpts};
use html5ever::{LocalName, ParseOpts, QualName, local_name, ns, serialize};
pub use markup5ever_rcdom::{Handle, Node};
use markup5ever_rcdom::{NodeData, RcDom, SerializableHandle};

/// Parses `html` as the children of a `<div>`; returns the element holding them.
pub fn parse_fragment(html: &str) -> Handle {
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
    // The fragment algorithm puts the nodes under an `html` element of a new document. The
    // document's drop empties every node below it, held elsewhere or not: detach the root.
    let root = dom.document.children.borrow_mut().remove(0);
    root.parent.set(None);
    root
}

/// The HTML of `root`'s children, as `innerHTML` would read them back.
pub fn serialize_children(root: &Handle) -> String {
    let mut out = Vec::new();
    let opts = serialize::SerializeOpts {
        scripting_enabled: true,
        traversal_scope: serialize::TraversalScope::ChildrenOnly(None),
        create_missing_parent: false,
    };
    serialize::serialize(&mut out, &SerializableHandle::from(root.clone()), opts)
        .expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("the serializer writes UTF-8")
}

/// The element's name, if `node` is an element.
pub fn element_name(node: &Handle) -> Option<&QualName> {
    match &node.data {
        NodeData::Element { name, .. } => Some(name),
        _ => None,
    }
}

/// The value of the element's attribute `name` (no namespace).
pub fn attribute(node: &Handle, name: &str) -> Option<String> {
    match &node.data {
        NodeData::Element { attrs, .. } => attrs
            .borrow()
            .iter()
            .find(|a| a.name.ns == ns!() && &*a.name.local == name)
            .map(|a| a.value.to_string()),
        _ => None,
    }
}

/// Sets attribute `name` (no namespace) to `value`, replacing any of that name.
pub fn set_attribute(node: &Handle, name: &str, value: &str) {
    if let NodeData::Element { attrs, .. } = &node.data {
        let mut attrs = attrs.borrow_mut();
        attrs.retain(|a| !(a.name.ns == ns!() && &*a.name.local == name));
        attrs.push(html5ever::Attribute {
            name: QualName::new(None, ns!(), LocalName::from(name)),
            value: value.into(),
        });
    }
}

/// Removes attribute `name` (no namespace).
pub fn remove_attribute(node: &Handle, name: &str) {
    if let NodeData::Element { attrs, .. } = &node.data {
        attrs
            .borrow_mut()
            .retain(|a| !(a.name.ns == ns!() && &*a.name.local == name));
    }
}
