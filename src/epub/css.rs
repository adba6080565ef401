//! Sanitizing CSS: stylesheets, `<style>` elements and `style` attributes.
//!
//! Not a CSS parser: the text is cut into statements at top-level `;`, `{` and `}`, and a
//! statement that could run script or fetch from elsewhere is dropped whole (the browser then
//! drops the rule or declaration too). Detection looks at the statement with comments removed,
//! CSS escapes decoded, lowercased and without whitespace, so `exp/**/ression` or
//! `\6a avascript:` do not hide. `url()`s that point into the book are rewritten to the served
//! resource URL.

use super::urls::{Book, Target};

/// Statements containing any of these are dropped.
const FORBIDDEN: &[&str] = &[
    "expression(",
    "javascript:",
    "vbscript:",
    "behavior",
    "behaviour",
    "-moz-binding",
    "data:text/html",
];

/// Sanitizes CSS found in the archive at (or in the document at) `from`.
pub fn sanitize(css: &str, from: &str, book: &Book) -> String {
    let css = strip_comments(css);
    let mut out = String::with_capacity(css.len());
    for (statement, separator) in statements(&css) {
        if let Some(clean) = sanitize_statement(statement, from, book) {
            out.push_str(&clean);
        }
        out.push_str(separator);
    }
    out
}

/// Sanitized CSS to put inside a `<style>` element: `</style` cannot end it early.
pub fn sanitize_for_style_element(css: &str, from: &str, book: &Book) -> String {
    sanitize(css, from, book)
        .replace("</", "<\\/")
        .replace("<!--", "<\\!--")
}

fn sanitize_statement(statement: &str, from: &str, book: &Book) -> Option<String> {
    let decoded = squeeze(&unescape(statement));
    if FORBIDDEN.iter().any(|f| decoded.contains(f)) {
        return None;
    }
    let trimmed = statement.trim_start();
    if squeeze(trimmed).starts_with("@import") {
        return import(trimmed, from, book);
    }
    let (rewritten, urls) = rewrite_urls(statement, from, book)?;
    // A `url(` whose letters were escaped was not seen by `rewrite_urls`; and strings can be
    // URLs too (`image-set("…")`, `src()`): anything still naming a host is refused.
    if decoded.matches("url(").count() != urls {
        return None;
    }
    let rest = squeeze(&unescape(&rewritten.replace(&book.base, "")));
    if ["://", "\"//", "'//", "(//"]
        .iter()
        .any(|r| rest.contains(r))
    {
        return None;
    }
    Some(rewritten)
}

/// `@import` of a stylesheet in the book, rewritten; any other import is dropped.
fn import(statement: &str, from: &str, book: &Book) -> Option<String> {
    let after = statement["@import".len()..].trim_start();
    let (url, rest) = if after.len() >= 4 && after[..4].eq_ignore_ascii_case("url(") {
        url_argument(&after[4..])?
    } else {
        quoted(after)?
    };
    match book.resolve(from, &unescape(&url)) {
        Target::Resource(path, _) => Some(format!(
            "@import url(\"{}\"){}",
            book.resource_url(&path, None),
            rest
        )),
        _ => None,
    }
}

/// Rewrites every `url(...)` in the statement; `None` if one may not stay. Also returns how
/// many there were.
fn rewrite_urls(statement: &str, from: &str, book: &Book) -> Option<(String, usize)> {
    let mut out = String::with_capacity(statement.len());
    let mut rest = statement;
    let mut count = 0;
    while let Some(start) = find_ignore_case(rest, "url(") {
        out.push_str(&rest[..start]);
        let (url, after) = url_argument(&rest[start + 4..])?;
        count += 1;
        let url = unescape(&url);
        let replacement = match book.resolve(from, &url) {
            Target::Resource(path, fragment) => book.resource_url(&path, fragment.as_deref()),
            // `url(#id)` refers to an SVG filter or clip path in the document.
            Target::Fragment(fragment) => format!("#{fragment}"),
            Target::InertData => url,
            _ => return None,
        };
        out.push_str("url(\"");
        out.push_str(&replacement.replace('\\', "\\\\").replace('"', "\\\""));
        out.push_str("\")");
        rest = after;
    }
    out.push_str(rest);
    Some((out, count))
}

/// The argument of `url(` (the text after it) and the text after the closing `)`.
fn url_argument(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    if text.starts_with(['"', '\'']) {
        let (url, rest) = quoted(text)?;
        let rest = rest.trim_start().strip_prefix(')')?;
        return Some((url, rest));
    }
    let end = text.find(')')?;
    Some((text[..end].trim().to_owned(), &text[end + 1..]))
}

/// A quoted string at the start of `text` (escapes kept) and the text after it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == quote => return Some((text[1..i].to_owned(), &text[i + 1..])),
            _ => {}
        }
    }
    None
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Splits CSS into statements and the separator after each (`;`, `{`, `}` or nothing at the
/// end), ignoring separators inside strings and parentheses.
fn statements(css: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in css.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ';' | '{' | '}') if depth == 0 => {
                out.push((&css[start..i], &css[i..i + 1]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push((&css[start..], ""));
    out
}

fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    let mut quote: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        if quote.is_none() && rest.starts_with("/*") {
            rest = rest[2..].find("*/").map_or("", |end| &rest[2 + end + 2..]);
            // A comment separates tokens like whitespace does, except that it joins them when
            // removed; a space keeps `a/**/b` two words.
            out.push(' ');
            continue;
        }
        match (quote, c) {
            (_, '\\') => {
                let escaped: String = rest.chars().take(2).collect();
                out.push_str(&escaped);
                rest = &rest[escaped.len()..];
                continue;
            }
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Decodes CSS escapes: `\` with 1–6 hex digits and an optional space, or `\` and any char.
fn unescape(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let mut hex = String::new();
        while hex.len() < 6 && chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            hex.extend(chars.next());
        }
        if hex.is_empty() {
            match chars.next() {
                Some('\n') | None => {}
                Some(other) => out.push(other),
            }
        } else {
            if chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                chars.next();
            }
            // As CSS Syntax has it: zero, a surrogate or beyond Unicode is U+FFFD.
            let code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
            out.push(
                char::from_u32(code)
                    .filter(|&c| c != '\0')
                    .unwrap_or('\u{FFFD}'),
            );
        }
    }
    out
}

/// Lowercased and without whitespace or control characters: the form checks look at.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn book() -> Book {
        Book {
            base: "/b".into(),
            chapters: HashMap::new(),
            resources: HashSet::from(["css/img/x.png".to_owned(), "css/other.css".to_owned()]),
        }
    }

    #[test]
    fn keeps_local_and_drops_dangerous() {
        let css = "@import url(http://evil/x.css); @import 'other.css' screen;\
                   p { color: red; background: url(img/x.png); width: exp/**/ression(alert(1)); }\
                   a { background: url('https://evil/t.gif') } b { x: \\75 rl(//evil) }\
                   i { -moz-binding: url(x.xml#y); behavior: url(x.htc); c: u\\72l(img/x.png) }\
                   s { background: image-set(\"https://evil/a.png\" 1x) }";
        let out = sanitize(css, "css/main.css", &book());
        assert!(
            out.contains(r#"@import url("/b/resources/css/other.css") screen;"#),
            "{out}"
        );
        assert!(
            out.contains(r#"background: url("/b/resources/css/img/x.png")"#),
            "{out}"
        );
        assert!(out.contains("color: red"), "{out}");
        for bad in ["evil", "ression", "binding", "behavior", "u\\72l"] {
            assert!(!out.contains(bad), "{bad} in {out}");
        }
    }
}
