//! Note bodies: Markdown rendered to HTML that is safe to show in the margin.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Renders Markdown; raw HTML in the source is shown as text, never passed through, and the
/// result is cleaned by an HTML sanitizer (links get `rel="noopener noreferrer nofollow"`).
/// Images from elsewhere than a book of this server become links: shown in every reader's
/// margin, they would tell their host who read the note and when.
pub fn render(source: &str) -> String {
    let mut events = Vec::new();
    // For each open image made a link: its address, and whether it had any text yet.
    let mut linked: Vec<(CowStr, bool)> = Vec::new();
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    );
    for event in parser {
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) if !is_book_resource(&dest_url) => {
                linked.push((dest_url.clone(), false));
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::End(TagEnd::Image) if !linked.is_empty() => {
                if let Some((url, false)) = linked.pop() {
                    events.push(Event::Text(url));
                }
                events.push(Event::End(TagEnd::Link));
            }
            other => {
                if let Some((_, has_text)) = linked.last_mut() {
                    *has_text = true;
                }
                events.push(other);
            }
        }
    }
    let mut rendered = String::new();
    html::push_html(&mut rendered, events.into_iter());
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&rendered)
        .to_string()
}

/// A path to a book's resources on this server (not `//host/...`, which is another host).
fn is_book_resource(url: &str) -> bool {
    url.starts_with("/api/books/")
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn remote_images_become_links_and_book_images_stay() {
        let remote = render("![pixel](https://tracker.example/p.gif) ![](http://t.example/q.gif)");
        assert!(!remote.contains("<img"), "{remote}");
        assert!(
            remote.contains("href=\"https://tracker.example/p.gif\"")
                && remote.contains(">pixel</a>"),
            "{remote}"
        );
        assert!(remote.contains(">http://t.example/q.gif</a>"), "{remote}");
        let relative = render("![x](//tracker.example/p.gif)");
        assert!(!relative.contains("<img"), "{relative}");
        let local = render("![map](/api/books/1/resources/map.png)");
        assert!(
            local.contains("<img src=\"/api/books/1/resources/map.png\""),
            "{local}"
        );
    }

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
