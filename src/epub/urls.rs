//! Resolving the URLs a book's documents use, and rewriting them to where Scholia serves them.

use std::collections::{HashMap, HashSet};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// What a URL in a book points at.
#[derive(Debug, PartialEq)]
pub enum Target {
    /// A spine document, with the fragment if any.
    Chapter(usize, Option<String>),
    /// A resource of the book, with the fragment if any (SVG sprites use them).
    Resource(String, Option<String>),
    /// Only a fragment: a place in the same document.
    Fragment(String),
    /// `http:`, `https:`, `mailto:`, `tel:` or `//host`: outside the book.
    External,
    /// A `data:` URL of an image or font, which loads nothing from anywhere.
    InertData,
    /// A script URL, another scheme, a path outside the archive or a file the book lacks.
    Unusable,
}

/// Where a book's files are and under which URL prefix they are served.
pub struct Book {
    pub base: String,
    pub chapters: HashMap<String, usize>,
    pub resources: HashSet<String>,
}

/// Characters escaped in a path segment of a served URL.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}');

impl Book {
    pub fn resolve(&self, from: &str, url: &str) -> Target {
        // Browsers ignore leading/trailing spaces and tabs or newlines anywhere in a URL, which
        // is how `java&#9;script:` hides its scheme.
        let url: String = url
            .trim_matches(|c: char| c <= ' ')
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        if url.starts_with("//") {
            return Target::External;
        }
        if let Some(target) = self.served(&url) {
            return target;
        }
        if let Some(scheme) = scheme(&url) {
            return match scheme.as_str() {
                "http" | "https" | "mailto" | "tel" => Target::External,
                "data" if inert_data(&url) => Target::InertData,
                _ => Target::Unusable,
            };
        }
        let (path, fragment) = match url.split_once('#') {
            Some((path, fragment)) => (path, Some(fragment.to_owned())),
            None => (url.as_str(), None),
        };
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return fragment.map_or(Target::Unusable, Target::Fragment);
        }
        let Some(path) = join(from, path) else {
            return Target::Unusable;
        };
        if let Some(&index) = self.chapters.get(&path) {
            Target::Chapter(index, fragment)
        } else if self.resources.contains(&path) {
            Target::Resource(path, fragment)
        } else {
            Target::Unusable
        }
    }

    /// What a URL this book is served under points at: the sanitizer's own output, sanitized
    /// again, must keep its links.
    fn served(&self, url: &str) -> Option<Target> {
        let rest = url.strip_prefix(&self.base)?.strip_prefix('/')?;
        let (path, fragment) = match rest.split_once('#') {
            Some((path, fragment)) => (path, Some(fragment.to_owned())),
            None => (rest, None),
        };
        if let Some(resource) = path.strip_prefix("resources/") {
            let resource = percent_decode_str(resource).decode_utf8().ok()?;
            return self
                .resources
                .contains(resource.as_ref())
                .then(|| Target::Resource(resource.into_owned(), fragment));
        }
        let index: usize = path.strip_prefix("chapters/")?.parse().ok()?;
        self.chapters
            .values()
            .any(|&i| i == index)
            .then_some(Target::Chapter(index, fragment))
    }

    pub fn chapter_url(&self, index: usize, fragment: Option<&str>) -> String {
        let mut url = format!("{}/chapters/{index}", self.base);
        if let Some(fragment) = fragment {
            url.push('#');
            url.push_str(fragment);
        }
        url
    }

    /// A link to `#fragment` in the document at `from`: into that chapter if it is one.
    pub fn fragment_url(&self, from: &str, fragment: &str) -> String {
        match self.chapters.get(from) {
            Some(&index) => self.chapter_url(index, Some(fragment)),
            None => format!("#{fragment}"),
        }
    }

    pub fn resource_url(&self, path: &str, fragment: Option<&str>) -> String {
        let mut url = format!("{}/resources/", self.base);
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                url.push('/');
            }
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        if let Some(fragment) = fragment {
            url.push('#');
            url.push_str(fragment);
        }
        url
    }
}

/// The URL's scheme, lowercased, if it has one.
fn scheme(url: &str) -> Option<String> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

fn inert_data(url: &str) -> bool {
    let media_type = url[5..].trim_start().to_ascii_lowercase();
    ["image/", "font/", "application/font", "application/x-font"]
        .iter()
        .any(|prefix| media_type.starts_with(prefix))
}

/// Resolves a relative, percent-encoded `href` against the zip path of the document holding it;
/// `None` if it climbs out of the archive.
pub fn join(from: &str, href: &str) -> Option<String> {
    let decoded = percent_decode_str(href).decode_utf8_lossy();
    let mut segments: Vec<&str> = if decoded.starts_with('/') {
        Vec::new()
    } else {
        from.split('/').collect()
    };
    // The document's own file name is not part of its directory.
    segments.pop();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            other => segments.push(other),
        }
    }
    Some(segments.join("/"))
}

/// A path the `epub` crate reports (the package directory joined to a manifest `href`):
/// percent-decoded and with `.` and `..` resolved.
pub fn normalize_path(path: &str) -> Option<String> {
    join("", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> Book {
        Book {
            base: "/b".into(),
            chapters: HashMap::from([("OEBPS/text/c1.xhtml".to_owned(), 0)]),
            resources: HashSet::from(["OEBPS/img/a b.png".to_owned()]),
        }
    }

    #[test]
    fn resolves_and_classifies() {
        let b = book();
        let from = "OEBPS/text/c2.xhtml";
        assert_eq!(
            b.resolve(from, "c1.xhtml#x"),
            Target::Chapter(0, Some("x".into()))
        );
        assert_eq!(
            b.resolve(from, "../img/a%20b.png"),
            Target::Resource("OEBPS/img/a b.png".into(), None)
        );
        assert_eq!(b.resolve(from, "#f"), Target::Fragment("f".into()));
        assert_eq!(b.resolve(from, " JaVa\tScRiPt:alert(1)"), Target::Unusable);
        assert_eq!(b.resolve(from, "data:text/html,<script>"), Target::Unusable);
        assert_eq!(
            b.resolve(from, "data:image/png;base64,AA"),
            Target::InertData
        );
        assert_eq!(b.resolve(from, "//evil.example/x.png"), Target::External);
        assert_eq!(b.resolve(from, "HTTPS://example.com"), Target::External);
        assert_eq!(b.resolve(from, "../../../../etc/passwd"), Target::Unusable);
        assert_eq!(
            b.resource_url("OEBPS/img/a b.png", None),
            "/b/resources/OEBPS/img/a%20b.png"
        );
        // What the sanitizer wrote resolves to what it was written for.
        assert_eq!(
            b.resolve(from, "/b/resources/OEBPS/img/a%20b.png"),
            Target::Resource("OEBPS/img/a b.png".into(), None)
        );
        assert_eq!(
            b.resolve(from, "/b/chapters/0#x"),
            Target::Chapter(0, Some("x".into()))
        );
        assert_eq!(
            b.resolve(from, "/b/resources/OEBPS/missing.png"),
            Target::Unusable
        );
    }
}
