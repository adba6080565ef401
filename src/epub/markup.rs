//! Making XHTML safe to give to an HTML parser.
//!
//! lol_html parses HTML, where `<div/>` opens a div that never closes, `<script/>` swallows the
//! rest of the document and `<svg/>` never leaves SVG. EPUB chapters are XML, where all of those
//! are empty elements. Writing every self-closed non-void element as `<x ...></x>` first makes
//! the HTML parse agree with the XML tree, which is what CFIs are counted against.
//!
//! HTML parsers do not read a DOCTYPE's internal subset either: its first `>` ends the DOCTYPE
//! and the rest shows as text. EPUB 2 books declare `&nbsp;` and friends there, so the subset is
//! taken out and its plain internal entities expanded ([`internal_subset`]); nothing external,
//! parametric or recursive is ever expanded.

use std::borrow::Cow;
use std::collections::HashMap;

use super::text;

/// HTML void elements: self-closing them is already right in HTML, and an end tag is invalid.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Longest entity value expanded, and most entities read from one subset.
const MAX_ENTITY_VALUE: usize = 1024;
const MAX_ENTITIES: usize = 1024;

/// A document's bytes as text for lol_html: decoded ([`text::decode_markup`]), its internal
/// subset handled ([`internal_subset`]) and self-closed elements expanded; with what was not
/// expanded, as warnings. Borrows `bytes` when nothing changes them.
pub fn source(bytes: &[u8]) -> (Cow<'_, str>, Vec<String>) {
    let decoded = text::decode_markup(bytes);
    let (without_subset, warnings) = internal_subset(&decoded);
    let expanded = match without_subset {
        Cow::Borrowed(_) => match decoded {
            Cow::Borrowed(decoded) => expand_self_closing(decoded),
            Cow::Owned(decoded) => Cow::Owned(expand_self_closing(&decoded).into_owned()),
        },
        Cow::Owned(text) => Cow::Owned(expand_self_closing(&text).into_owned()),
    };
    (expanded, warnings)
}

/// The document without its DOCTYPE's internal subset, each reference to one of the subset's
/// plain entities (a quoted value of text and character references, declared once) replaced
/// by its value; and a warning for every declaration that was not expanded. Expansion stops
/// once it would double the document.
pub fn internal_subset(src: &str) -> (Cow<'_, str>, Vec<String>) {
    let Some((start, open, end)) = find_internal_subset(src) else {
        return (Cow::Borrowed(src), Vec::new());
    };
    let mut warnings = Vec::new();
    let mut entities: HashMap<&str, &str> = HashMap::new();
    for declaration in src[open + 1..end].split("<!").skip(1) {
        let Some(rest) = declaration.strip_prefix("ENTITY") else {
            continue;
        };
        let rest = rest.trim_start();
        // `<!ENTITY % name ...>` declares a parameter entity, for the DTD itself.
        let (parameter, rest) = match rest.strip_prefix('%') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, rest),
        };
        let name_len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        let (name, value) = (&rest[..name_len], rest[name_len..].trim_start());
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
        let value = quote.and_then(|q| value[1..].find(q).map(|end| &value[1..end + 1]));
        let plain = value.filter(|v| {
            v.len() <= MAX_ENTITY_VALUE
                && !v.contains(['<', '%'])
                && v.split('&').skip(1).all(|r| r.starts_with('#'))
        });
        match plain {
            Some(value)
                if !parameter
                    && entities.len() < MAX_ENTITIES
                    && !entities.contains_key(name) =>
            {
                entities.insert(name, value);
            }
            _ => warnings.push(format!(
                "the entity declaration {:?} is not expanded (only plain internal text is); its references stay as text",
                format!("<!ENTITY {}{name}", if parameter { "% " } else { "" })
                    .chars()
                    .take(60)
                    .collect::<String>()
            )),
        }
    }
    let mut out = String::with_capacity(src.len());
    out.push_str(&src[..start]);
    out.push_str(src[start..open].trim_end());
    out.push('>');
    let body = &src[end + 1..];
    let body = body[body.find('>').map_or(body.len(), |gt| gt + 1)..].to_owned();
    let budget = src.len();
    let mut added = 0usize;
    let mut rest = body.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let value = after
            .find(';')
            .filter(|&semi| semi <= 64)
            .and_then(|semi| Some((entities.get(&after[..semi])?, semi)));
        match value {
            Some((value, semi)) if added + value.len() <= budget => {
                out.push_str(value);
                added += value.len();
                rest = &after[semi + 1..];
            }
            Some(_) => {
                warnings.push(
                    "entity references beyond twice the document's size are not expanded"
                        .to_owned(),
                );
                out.push_str(rest);
                rest = "";
                break;
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    warnings.dedup();
    (Cow::Owned(out), warnings)
}

/// Where the document's DOCTYPE starts, where its subset's `[` and `]` are.
fn find_internal_subset(src: &str) -> Option<(usize, usize, usize)> {
    let mut prolog_end = src.len().min(4096);
    while !src.is_char_boundary(prolog_end) {
        prolog_end -= 1;
    }
    let prolog = &src[..prolog_end];
    let start = prolog
        .find("<!DOCTYPE")
        .or_else(|| prolog.find("<!doctype"))?;
    let open = start + src[start..].find(['[', '>'])?;
    if src.as_bytes()[open] != b'[' {
        return None;
    }
    // The subset ends at the first `]` outside a quoted literal or a comment.
    let bytes = src.as_bytes();
    let mut i = open + 1;
    let mut quote = None;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(bytes[i]),
            (None, b'<') if src[i..].starts_with("<!--") => {
                i += src[i..].find("-->")? + 2;
            }
            (None, b']') => return Some((start, open, i)),
            _ => {}
        }
        i += 1;
    }
    None
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
    use super::{expand_self_closing, internal_subset};

    #[test]
    fn plain_internal_entities_expand_and_nothing_else_does() {
        let doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE html [\n<!ENTITY nbsp \"&#160;\">\n<!ENTITY ext SYSTEM \"file:///etc/passwd\">\n<!ENTITY lol2 \"&lol;&lol;\">\n]>\n<html><p>a&nbsp;b &ext; &lol2; &amp;</p></html>";
        let (out, warnings) = internal_subset(doc);
        assert_eq!(
            out,
            "<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<html><p>a&#160;b &ext; &lol2; &amp;</p></html>"
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

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
