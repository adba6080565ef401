//! Which of a book's files Scholia serves, and as what.
//!
//! A reader needs images, fonts, audio, video, stylesheets and SVG. Everything else a package
//! may hold (scripts, XSLT, XML, XHTML outside the spine...) is not imported: served from the
//! app's origin, a book's script would satisfy the app's own `script-src 'self'`.

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{RcDom, SerializableHandle};

use super::css;
use super::sanitize::{Policy, sanitize_tree};
use super::urls::Book;

/// How a resource is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Data a browser only displays or plays.
    Media,
    /// A stylesheet, sanitized like a chapter's `<style>`.
    Stylesheet,
    /// An SVG document, sanitized as the XML tree a browser builds from it.
    Svg,
}

/// The kind of a resource of `media_type` (parameters and case ignored), or `None` when a
/// reader has no use for it.
pub fn kind(media_type: &str) -> Option<Kind> {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/css" => Some(Kind::Stylesheet),
        "image/svg+xml" => Some(Kind::Svg),
        "image/png" | "image/jpeg" | "image/jpg" | "image/gif" | "image/webp" | "image/avif"
        | "image/bmp" => Some(Kind::Media),
        "application/vnd.ms-opentype"
        | "application/font-woff"
        | "application/font-woff2"
        | "application/font-sfnt"
        | "application/x-font-ttf"
        | "application/x-font-otf"
        | "application/x-font-truetype"
        | "application/x-font-opentype"
        | "application/x-font-woff" => Some(Kind::Media),
        _ if essence.starts_with("font/")
            || essence.starts_with("audio/")
            || essence.starts_with("video/") =>
        {
            Some(Kind::Media)
        }
        _ => None,
    }
}

/// The resource's bytes as served.
pub fn sanitize(kind: Kind, data: Vec<u8>, path: &str, book: &Book) -> Vec<u8> {
    match kind {
        Kind::Media => data,
        Kind::Stylesheet => {
            css::sanitize(&super::text::decode_markup(&data), path, book).into_bytes()
        }
        Kind::Svg => {
            // No DTD reaches the XML parser: its plain entities are expanded first.
            let decoded = super::text::decode_markup(&data);
            sanitize_svg(&super::markup::internal_subset(&decoded).0, path, book)
        }
    }
}

/// An SVG document parsed as XML (as a browser opening it does), sanitized with the chapters'
/// allow-lists, and written back as XML.
fn sanitize_svg(source: &str, path: &str, book: &Book) -> Vec<u8> {
    let dom = xml5ever::driver::parse_document(RcDom::default(), Default::default()).one(source);
    let policy = Policy {
        from: path,
        book,
        marker: None,
        keep_passages: false,
    };
    sanitize_tree(&dom.document, &policy);
    let mut out = Vec::new();
    let opts = xml5ever::serialize::SerializeOpts {
        traversal_scope: xml5ever::serialize::TraversalScope::ChildrenOnly(None),
    };
    xml5ever::serialize::serialize(&mut out, &SerializableHandle::from(dom.document), opts)
        .expect("writing to a Vec cannot fail");
    out
}
