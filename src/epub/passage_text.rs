//! A passage's text, read from the tree a browser builds, exactly as the web reader reads it
//! from the page (web/reader/text.js implements the same walk): the offsets of a note count
//! code points of this text, so the two must agree to the character.
//!
//! The text of a passage element is its text nodes in order, where
//! - ruby readings (`rt`, `rp`) and `script`, `style`, `template` contribute nothing;
//! - a nested passage, a `<br>` contributes one space;
//! - any other HTML block element contributes a space before and after its own text;
//!
//! and runs of HTML whitespace then collapse to one space, trimmed at both ends.

use html5ever::ns;
use markup5ever_rcdom::{Handle, NodeData};

use super::passages::BLOCKS;
use super::text;

/// Elements whose text is not read.
const SKIPPED: &[&str] = &["rp", "rt", "script", "style", "template"];

/// The text of passage element `el`; `is_passage` tells the passages nested in it.
pub fn passage_text(el: &Handle, is_passage: &impl Fn(&Handle) -> bool) -> String {
    let mut raw = String::new();
    walk(el, is_passage, &mut raw);
    text::normalize(&raw)
}

fn walk(node: &Handle, is_passage: &impl Fn(&Handle) -> bool, raw: &mut String) {
    for child in node.children.borrow().iter() {
        match &child.data {
            NodeData::Text { contents } => raw.push_str(&contents.borrow()),
            NodeData::Element { name, .. } => {
                let local = &*name.local;
                let html = name.ns == ns!(html);
                if SKIPPED.contains(&local) {
                    continue;
                }
                if is_passage(child) || (html && local == "br") {
                    raw.push(' ');
                } else if html && BLOCKS.contains(&local) {
                    raw.push(' ');
                    walk(child, is_passage, raw);
                    raw.push(' ');
                } else {
                    walk(child, is_passage, raw);
                }
            }
            _ => {}
        }
    }
}

/// The `n`s of the elements for which `owner` says `Some(n)`, in the order of their first text
/// that is not whitespace (the text their passage text begins with): the reading order.
pub fn first_texts(root: &Handle, owner: &impl Fn(&Handle) -> Option<usize>) -> Vec<usize> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<(Handle, Option<usize>)> = vec![(root.clone(), None)];
    while let Some((node, current)) = stack.pop() {
        match &node.data {
            NodeData::Text { contents } => {
                let has_words = !contents
                    .borrow()
                    .trim_matches(text::is_html_space)
                    .is_empty();
                if let Some(owner) = current.filter(|_| has_words) {
                    if seen.insert(owner) {
                        found.push(owner);
                    }
                }
            }
            NodeData::Element { name, .. } if SKIPPED.contains(&&*name.local) => {}
            _ => {
                let current = owner(&node).or(current);
                for child in node.children.borrow().iter().rev() {
                    stack.push((child.clone(), current));
                }
            }
        }
    }
    found
}
