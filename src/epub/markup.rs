//! Making XHTML safe to give to an HTML parser.
//!
//! lol_html parses HTML, where `<div/>` opens a div that never closes, `<script/>` swallows the
//! rest of the document and `<svg/>` never leaves SVG. EPUB chapters are XML, where all of those
//! are empty elements. Writing every self-closed non-void element as `<x ...></x>` first makes
//! the HTML parse agree with the XML tree, which is what CFIs are counted against.

use std::borrow::Cow;

use super::text;

/// HTML void elements: self-closing them is already right in HTML, and an end tag is invalid.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// A document's bytes as text for lol_html: decoded ([`text::decode_markup`]) and expanded.
/// Borrows `bytes` when neither changes them.
pub fn source(bytes: &[u8]) -> Cow<'_, str> {
    match text::decode_markup(bytes) {
        Cow::Borrowed(decoded) => expand_self_closing(decoded),
        Cow::Owned(decoded) => Cow::Owned(expand_self_closing(&decoded).into_owned()),
    }
}

/// `src` with its self-closed non-void elements expanded; borrowed when it has none.
pub fn expand_self_closing(src: &str) -> Cow<'_, str> {
    let bytes = src.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = src[i..].find('<') {
        let lt = i + offset;
        let rest = &src[lt..];
        let skip_to = |end: &str, from: usize| {
            src[lt + from..]
                .find(end)
                .map_or(src.len(), |p| lt + from + p + end.len())
        };
        if rest.starts_with("<!--") {
            i = skip_to("-->", 4);
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            i = skip_to("]]>", 9);
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") || rest.starts_with("</") {
            i = skip_to(">", 2);
            continue;
        }
        let name_len = rest[1..]
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(rest.len() - 1);
        let name = &rest[1..1 + name_len];
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            i = lt + 1;
            continue;
        }
        // Find the tag's `>`, stepping over quoted attribute values, which may contain `>`.
        let mut j = lt + 1 + name_len;
        let mut quote = None;
        while j < bytes.len() {
            match (quote, bytes[j]) {
                (Some(q), c) if c == q => quote = None,
                (None, c @ (b'"' | b'\'')) => quote = Some(c),
                (None, b'>') => break,
                _ => {}
            }
            j += 1;
        }
        if j >= bytes.len() {
            break;
        }
        let is_void = || {
            let local = name.rsplit(':').next().unwrap_or(name);
            VOID.iter().any(|void| void.eq_ignore_ascii_case(local))
        };
        if bytes[j - 1] == b'/' && !is_void() {
            if out.is_empty() {
                out.reserve(src.len() + src.len() / 16);
            }
            out.push_str(&src[copied..j - 1]);
            out.push_str("></");
            out.push_str(name);
            out.push('>');
            copied = j + 1;
        }
        i = j + 1;
    }
    if copied == 0 {
        return Cow::Borrowed(src);
    }
    out.push_str(&src[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::expand_self_closing;

    #[test]
    fn expands_only_non_void_elements() {
        assert_eq!(
            expand_self_closing(
                r#"<!-- <a/> --><div/><br/><a id="x>" /><svg:rect x='1'/><![CDATA[<b/>]]>"#
            ),
            r#"<!-- <a/> --><div></div><br/><a id="x>" ></a><svg:rect x='1'></svg:rect><![CDATA[<b/>]]>"#
        );
    }
}
