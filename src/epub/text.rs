//! Text handling shared by the passes: decoding bytes, character references, normalization.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// Decodes an XML/XHTML document: a byte order mark wins, then the XML declaration's
/// `encoding`, then UTF-8. Invalid bytes become U+FFFD instead of failing the book, and so do
/// NULs, which XML forbids (and [`super::chapter`] relies on there being none). Borrows
/// `bytes` when they are already all that.
pub fn decode_markup(bytes: &[u8]) -> Cow<'_, str> {
    let encoding = Encoding::for_bom(bytes)
        .map(|(encoding, _)| encoding)
        .or_else(|| declared_encoding(bytes))
        .unwrap_or(UTF_8);
    // `decode` strips a BOM of the encoding it sniffs, and sniffs one even if we chose another.
    let (text, _, _) = encoding.decode(bytes);
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        text
    }
}

/// The encoding named by `<?xml ... encoding="..."?>`. UTF-16 without a BOM is recognised by
/// its NUL bytes around the ASCII declaration.
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [b'<', 0, b'?', 0, ..] => return Some(UTF_16LE),
        [0, b'<', 0, b'?', ..] => return Some(UTF_16BE),
        _ => {}
    }
    let head = &bytes[..bytes.len().min(256)];
    let head = std::str::from_utf8(head)
        .unwrap_or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""));
    let declaration = head.trim_start().strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    let label = &value[..value.find(quote)?];
    let encoding = Encoding::for_label(label.as_bytes())?;
    // A document that declares UTF-16 but was read without a BOM and passed the sniff above is
    // lying about it; reading it as UTF-8 keeps the text.
    (encoding != UTF_16LE && encoding != UTF_16BE).then_some(encoding)
}

/// HTML whitespace as browsers collapse it: not NBSP or the ideographic space, which are
/// visible characters in books (Japanese paragraphs start with U+3000).
pub fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C')
}

/// Whitespace runs collapsed to one space, trimmed.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut push = |word: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    };
    // HTML whitespace is ASCII, so a byte scan finds the words' bounds (it is hot: MathML
    // chapters are mostly indentation).
    let mut word_start = None;
    for (i, &byte) in text.as_bytes().iter().enumerate() {
        match (is_html_space(char::from(byte)), word_start) {
            (true, Some(start)) => {
                push(&text[start..i]);
                word_start = None;
            }
            (false, None) => word_start = Some(i),
            _ => {}
        }
    }
    if let Some(start) = word_start {
        push(&text[start..]);
    }
    out
}

/// Replaces character references (`&amp;`, `&#233;`, `&#xE9;` and the named references books
/// commonly use). An unknown name is left as written, which is what an XML reader would refuse
/// and a browser would show.
pub fn decode_entities(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest[1..]
            .find(';')
            .filter(|&end| end <= 32)
            .and_then(|end| {
                let name = &rest[1..=end];
                reference(name).map(|c| (c, end + 2))
            });
        match decoded {
            Some((c, consumed)) => {
                out.push(c);
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn reference(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return Some(
            char::from_u32(code)
                .filter(|&c| c != '\0')
                .unwrap_or('\u{FFFD}'),
        );
    }
    NAMED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .or_else(|| {
            // ISO 8859-1 names, in code point order from U+00A0.
            LATIN1
                .split(' ')
                .position(|n| n == name)
                .and_then(|i| char::from_u32(0xA0 + i as u32))
        })
}

const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("sbquo", '\u{201A}'),
    ("ldquo", '\u{201C}'),
    ("rdquo", '\u{201D}'),
    ("bdquo", '\u{201E}'),
    ("dagger", '\u{2020}'),
    ("Dagger", '\u{2021}'),
    ("bull", '\u{2022}'),
    ("hellip", '\u{2026}'),
    ("permil", '\u{2030}'),
    ("prime", '\u{2032}'),
    ("Prime", '\u{2033}'),
    ("lsaquo", '\u{2039}'),
    ("rsaquo", '\u{203A}'),
    ("euro", '\u{20AC}'),
    ("trade", '\u{2122}'),
    ("larr", '\u{2190}'),
    ("rarr", '\u{2192}'),
    ("minus", '\u{2212}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'),
    ("lrm", '\u{200E}'),
    ("rlm", '\u{200F}'),
    ("OElig", '\u{152}'),
    ("oelig", '\u{153}'),
    ("Scaron", '\u{160}'),
    ("scaron", '\u{161}'),
    ("Yuml", '\u{178}'),
    ("fnof", '\u{192}'),
    ("circ", '\u{2C6}'),
    ("tilde", '\u{2DC}'),
];

const LATIN1: &str = "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg \
macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 \
iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute \
Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml \
Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml \
igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute \
ucirc uuml yacute thorn yuml";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a &amp; b&#233;&#xE9;&eacute;&yuml;&nbsp;&bogus; &"),
            "a & béééÿ\u{a0}&bogus; &"
        );
    }

    #[test]
    fn encodings() {
        assert_eq!(
            decode_markup(b"<?xml version='1.0' encoding='ISO-8859-1'?><p>\xe9</p>"),
            "<?xml version='1.0' encoding='ISO-8859-1'?><p>é</p>"
        );
        assert_eq!(decode_markup(b"\xff\xfe<\0p\0>\0"), "<p>");
        assert_eq!(decode_markup(b"<p>\xff</p>"), "<p>\u{FFFD}</p>");
        assert_eq!(decode_markup(b"<p>a\0b</p>"), "<p>a\u{FFFD}b</p>");
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("  a \n\t b\u{a0}c  "), "a b\u{a0}c");
    }
}
