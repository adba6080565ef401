//! One spine document into a [`Chapter`]: passages and sanitized HTML from one lol_html pass.
//!
//! The pass feeds every element and text to the [`Splitter`] and then to the [`Sanitizer`].
//! Passage ids are ordinals in reading order, known only at the end, so each candidate element
//! gets a `data-passage` marker — its candidate number between NULs — which [`mark_passages`]
//! then replaces by its id, or removes when the candidate has no text. No other NUL can be in
//! the output: [`super::text::decode_markup`] replaces NULs in the source, and character references
//! and CSS escapes never decode to one.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::{
    RewriteStrSettings, doc_comments, doc_text, doctype, element, end_tag, rewrite_str, text,
};
use sha2::{Digest, Sha256};

use super::passages::{Splitter, TooDeep, local_name};
use super::sanitize::{Mode, Sanitizer, wrap_chapter};
use super::urls::{self, Book};
use super::{Chapter, EpubError, Limits, Passage, TocEntry, cfi, css, markup, toc};

/// The attribute a passage element carries its id in.
const PASSAGE_ATTR: &str = "data-passage";

/// Splits and sanitizes one spine document; also returns the document's `<title>`.
pub fn chapter(
    index: usize,
    idref: &str,
    path: &str,
    bytes: &[u8],
    book: &Book,
    toc: &[TocEntry],
    limits: &Limits,
) -> Result<(Chapter, Option<String>), EpubError> {
    let source = markup::source(bytes);
    let invalid = |reason: String| EpubError::InvalidChapter {
        path: path.to_owned(),
        reason,
    };
    let splitter = Rc::new(RefCell::new(Splitter::new(limits.max_html_depth)));
    let sanitizer = Sanitizer::new(path, book, Mode::Chapter);
    let on_text = Rc::clone(&splitter);
    let body = rewrite_str(
        &source,
        RewriteStrSettings {
            element_content_handlers: vec![
                element!("*", |el| {
                    let tag = el.tag_name();
                    // The splitter reads the element as the book wrote it: first.
                    let opened = splitter.borrow_mut().open(el, &tag)?;
                    sanitizer.element(el, local_name(&tag));
                    if let Some(candidate) = opened.candidate {
                        el.set_attribute(PASSAGE_ATTR, &format!("\0{candidate}\0"))?;
                    }
                    if opened.stays_open {
                        let on_end = Rc::clone(&splitter);
                        el.on_end_tag(end_tag!(move |_| {
                            on_end.borrow_mut().close(opened.seq);
                            Ok(())
                        }))?;
                    }
                    Ok(())
                }),
                text!("style", |chunk| {
                    sanitizer.style_text(chunk);
                    Ok(())
                }),
                element!("head", |el| {
                    el.remove();
                    Ok(())
                }),
            ],
            document_content_handlers: vec![
                doc_text!(move |chunk| {
                    on_text.borrow_mut().text(chunk);
                    Ok(())
                }),
                doctype!(|d| {
                    d.remove();
                    Ok(())
                }),
                doc_comments!(|c| {
                    c.remove();
                    Ok(())
                }),
            ],
            strict: false,
            ..RewriteStrSettings::new()
        },
    )
    .map_err(|e| match e {
        lol_html::errors::RewritingError::ContentHandlerError(inner) if inner.is::<TooDeep>() => {
            EpubError::HtmlTooDeep {
                chapter: path.to_owned(),
                limit: limits.max_html_depth,
            }
        }
        other => invalid(other.to_string()),
    })?;
    drop(source);
    let analysis = std::mem::take(&mut *splitter.borrow_mut()).finish();

    let mut ids = vec![None; analysis.candidates];
    let passages: Vec<Passage> = analysis
        .passages
        .into_iter()
        .enumerate()
        .map(|(ordinal, found)| {
            let id = format!("c{index}p{ordinal}");
            ids[found.candidate] = Some(id.clone());
            Passage {
                id,
                chapter: index,
                ordinal,
                cfi: cfi::passage_cfi(index, idref, &found.path),
                fingerprint: hex::encode(&Sha256::digest(found.text.as_bytes())[..8]),
                text: found.text,
            }
        })
        .collect();
    let body = mark_passages(&body, &ids)
        .ok_or_else(|| invalid("unexpected NUL in the sanitized chapter".to_owned()))?;

    let stylesheets: Vec<String> = analysis
        .stylesheets
        .iter()
        .filter_map(|href| match book.resolve(path, href) {
            urls::Target::Resource(target, _) => Some(book.resource_url(&target, None)),
            _ => None,
        })
        .collect();
    let styles: Vec<String> = analysis
        .styles
        .iter()
        .map(|style| css::sanitize_for_style_element(style, path, book))
        .collect();
    let chapter = Chapter {
        index,
        idref: idref.to_owned(),
        href: path.to_owned(),
        title: toc::title_of(toc, index),
        html: wrap_chapter(&sanitizer.into_root(), &stylesheets, &styles, &body),
        passages,
    };
    Ok((chapter, analysis.title))
}

/// Replaces each ` data-passage="\0N\0"` marker by candidate N's passage id, or drops it when
/// the candidate has none. `None` if a NUL is not such a marker.
fn mark_passages(html: &str, ids: &[Option<String>]) -> Option<String> {
    let opening = format!(" {PASSAGE_ATTR}=\"");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('\0') {
        let len = rest[start + 1..].find('\0')?;
        let candidate: usize = rest[start + 1..start + 1 + len].parse().ok()?;
        let after = rest[start + len + 2..].strip_prefix('"')?;
        let before = &rest[..start];
        match ids.get(candidate)? {
            Some(id) => {
                out.push_str(before);
                out.push_str(id);
                out.push('"');
            }
            None => out.push_str(before.strip_suffix(&opening)?),
        }
        rest = after;
    }
    out.push_str(rest);
    Some(out)
}
