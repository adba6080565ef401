//! Note bodies: Markdown rendered to HTML that is safe to show in the margin.

use pulldown_cmark::{Event, Options, Parser, html};

/// Renders Markdown; raw HTML in the source is shown as text, never passed through, and the
/// result is cleaned by an HTML sanitizer (links get `rel="noopener noreferrer nofollow"`).
pub fn render(source: &str) -> String {
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    )
    .map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut rendered = String::new();
    html::push_html(&mut rendered, parser);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&rendered)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_and_raw_html_never_passes() {
        assert_eq!(render("*so* true"), "<p><em>so</em> true</p>\n");
        let hostile = render("<script>alert(1)</script> <img src=x onerror=alert(1)>");
        assert!(
            !hostile.contains("<script") && !hostile.contains("<img"),
            "{hostile}"
        );
        assert!(
            hostile.contains("&lt;script&gt;"),
            "shown as text: {hostile}"
        );
        let link = render("[x](javascript:alert(1)) [y](https://example.org)");
        assert!(!link.contains("javascript:"), "{link}");
        assert!(link.contains("href=\"https://example.org\""), "{link}");
    }
}
