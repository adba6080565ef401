//! Sanitizing CSS: stylesheets, `<style>` elements, `style` attributes and SVG presentation
//! attributes, with a real tokenizer (cssparser) so that escapes, comments and odd URLs are
//! seen as the browser sees them.
//!
//! The CSS is rebuilt from its tokens: only known properties, functions and at-rules survive, a
//! declaration whose value holds anything else is dropped whole (the browser would drop it too
//! when it did not understand it), and every URL is resolved against the book: one pointing
//! inside it becomes the URL Scholia serves it at, anything else drops its declaration. The
//! book's `-epub-` properties get their standard names, and selectors of `html`, `:root` and
//! `body` are aimed at the chapter's root and body, as they sit inside the reader's page.

use cssparser::{Delimiter, ParseError, Parser, ParserInput, ToCss, Token, TokenSerializationType};

use super::urls::{Book, Target};

/// What replaces `html` and `:root` in a selector: the chapter's root element.
const ROOT_SELECTOR: &str = ".scholia-chapter";
/// What replaces `body`: the element the chapter's `<body>` became.
const BODY_SELECTOR: &str = "[data-epub-body]";

/// Properties kept (after `-epub-`, `-webkit-` and `-moz-` prefixes are looked through), as
/// whole names or, ending in `-`, as families.
const PROPERTIES: &[&str] = &[
    "align-",
    "alignment-baseline",
    "all",
    "animation",
    "aspect-ratio",
    "background",
    "baseline-shift",
    "block-size",
    "border",
    "bottom",
    "box-decoration-break",
    "box-shadow",
    "box-sizing",
    "break-",
    "caption-side",
    "clear",
    "clip",
    "clip-path",
    "clip-rule",
    "color",
    "column-",
    "columns",
    "content",
    "counter-",
    "cursor",
    "direction",
    "display",
    "dominant-baseline",
    "empty-cells",
    "fill",
    "fill-",
    "filter",
    "flex",
    "flex-",
    "float",
    "flood-",
    "font",
    "font-",
    "gap",
    "grid",
    "grid-",
    "hanging-punctuation",
    "height",
    "hyphenate-",
    "hyphens",
    "image-orientation",
    "image-rendering",
    "inline-size",
    "inset",
    "inset-",
    "isolation",
    "justify-",
    "left",
    "letter-spacing",
    "lighting-color",
    "line-break",
    "line-height",
    "list-style",
    "list-style-",
    "margin",
    "margin-",
    "marker",
    "marker-",
    "mask",
    "mask-",
    "max-",
    "min-",
    "mix-blend-mode",
    "object-fit",
    "object-position",
    "opacity",
    "order",
    "orphans",
    "outline",
    "outline-",
    "overflow",
    "overflow-",
    "overflow-wrap",
    "padding",
    "padding-",
    "page",
    "page-break-",
    "paint-order",
    "place-",
    "position",
    "quotes",
    "right",
    "row-gap",
    "ruby-",
    "shape-",
    "size",
    "src",
    "stop-color",
    "stop-opacity",
    "stroke",
    "stroke-",
    "tab-size",
    "table-layout",
    "text-",
    "top",
    "transform",
    "transform-",
    "transition",
    "transition-",
    "unicode-bidi",
    "unicode-range",
    "vector-effect",
    "vertical-align",
    "visibility",
    "white-space",
    "widows",
    "width",
    "word-",
    "writing-mode",
    "z-index",
];
/// Functions a value may call. Not `image-set`, `image`, `src`, `attr`, `env`, `element`,
/// `paint` or `expression`: they fetch, read the document or run script.
const FUNCTIONS: &[&str] = &[
    "blur",
    "brightness",
    "calc",
    "circle",
    "clamp",
    "color",
    "color-mix",
    "conic-gradient",
    "contrast",
    "counter",
    "counters",
    "cubic-bezier",
    "drop-shadow",
    "ellipse",
    "fit-content",
    "format",
    "grayscale",
    "hsl",
    "hsla",
    "hue-rotate",
    "hwb",
    "inset",
    "invert",
    "lab",
    "lch",
    "linear-gradient",
    "local",
    "matrix",
    "matrix3d",
    "max",
    "min",
    "minmax",
    "oklab",
    "oklch",
    "opacity",
    "perspective",
    "polygon",
    "radial-gradient",
    "rect",
    "repeat",
    "repeating-conic-gradient",
    "repeating-linear-gradient",
    "repeating-radial-gradient",
    "rgb",
    "rgba",
    "rotate",
    "rotate3d",
    "rotatex",
    "rotatey",
    "rotatez",
    "saturate",
    "scale",
    "scale3d",
    "scalex",
    "scaley",
    "scalez",
    "sepia",
    "skew",
    "skewx",
    "skewy",
    "steps",
    "tech",
    "translate",
    "translate3d",
    "translatex",
    "translatey",
    "translatez",
    "var",
];
/// At-rules whose block holds rules.
const GROUPING_AT_RULES: &[&str] = &["container", "layer", "media", "supports"];
/// At-rules whose block holds declarations.
const DECLARATION_AT_RULES: &[&str] = &["font-face", "page"];

type Failure<'i> = ParseError<'i, ()>;

/// Sanitizes a stylesheet found in the archive at (or in the document at) `from`.
pub fn sanitize(css: &str, from: &str, book: &Book) -> String {
    let mut input = ParserInput::new(css);
    let mut parser = Parser::new(&mut input);
    let mut out = Out::default();
    rules(&mut parser, &Context { from, book }, &mut out, true);
    out.css
}

/// Sanitized CSS to put inside an HTML `<style>` element: `</style` cannot end it early.
pub fn sanitize_for_style_element(css: &str, from: &str, book: &Book) -> String {
    // In CSS `\/` is `/`, so this changes no meaning.
    sanitize(css, from, book).replace("</", "<\\/")
}

/// Sanitizes the declarations of a `style` attribute.
pub fn sanitize_declarations(css: &str, from: &str, book: &Book) -> String {
    let mut input = ParserInput::new(css);
    let mut parser = Parser::new(&mut input);
    let mut out = Out::default();
    declarations(&mut parser, &Context { from, book }, &mut out);
    out.css
}

/// Sanitizes one value (an SVG presentation attribute such as `fill="url(#g)"`); `None` when
/// it may not stay.
pub fn sanitize_value(value: &str, from: &str, book: &Book) -> Option<String> {
    let mut input = ParserInput::new(value);
    let mut parser = Parser::new(&mut input);
    let mut out = Out::default();
    let ctx = Context { from, book };
    let result: Result<(), Failure> = parser.parse_entirely(|p| copy_value(p, &ctx, &mut out));
    result.ok().map(|()| out.css.trim().to_owned())
}

struct Context<'a> {
    from: &'a str,
    book: &'a Book,
}

/// CSS being written, token by token, with an empty comment wherever two tokens would
/// otherwise run together into one.
#[derive(Default)]
struct Out {
    css: String,
    last: Option<TokenSerializationType>,
}

impl Out {
    fn token(&mut self, token: &Token) {
        if let Token::WhiteSpace(_) = token {
            if !self.css.is_empty() && !self.css.ends_with(' ') {
                self.css.push(' ');
            }
            self.last = None;
            return;
        }
        self.separate(token.serialization_type());
        token.to_css(&mut self.css).expect("writing to a String");
    }

    /// Writes CSS text that starts and ends like a token of type `kind`.
    fn text(&mut self, text: &str, kind: TokenSerializationType) {
        self.separate(kind);
        self.css.push_str(text);
    }

    fn separate(&mut self, next: TokenSerializationType) {
        if self
            .last
            .is_some_and(|last| last.needs_separator_when_before(next))
        {
            self.css.push_str("/**/");
        }
        self.last = Some(next);
    }

    fn close(&mut self, closing: char) {
        self.css.push(closing);
        self.last = None;
    }

    fn append(&mut self, other: Out) {
        self.css.push_str(&other.css);
        self.last = other.last;
    }
}

/// A list of rules (a stylesheet, or the block of `@media`). `top`: where `@import` may be.
fn rules(p: &mut Parser, ctx: &Context, out: &mut Out, top: bool) {
    loop {
        let start = p.state();
        let Ok(token) = p.next() else { break };
        match token.clone() {
            Token::CDO | Token::CDC | Token::Semicolon => {}
            Token::AtKeyword(name) => {
                let name = name.to_ascii_lowercase();
                at_rule(&name, p, ctx, out, top);
            }
            _ => {
                p.reset(&start);
                style_rule(p, ctx, out);
            }
        }
    }
}

fn style_rule(p: &mut Parser, ctx: &Context, out: &mut Out) {
    let mut selector = Out::default();
    let prelude: Result<(), Failure> = p.parse_until_before(Delimiter::CurlyBracketBlock, |p| {
        copy_selector(p, &mut selector)
    });
    let block = p.next().map(|t| matches!(t, Token::CurlyBracketBlock));
    if !matches!(block, Ok(true)) {
        return;
    }
    let mut body = Out::default();
    let _: Result<(), Failure> = p.parse_nested_block(|p| {
        declarations(p, ctx, &mut body);
        Ok(())
    });
    if prelude.is_ok() && !selector.css.trim().is_empty() {
        out.css.push_str(selector.css.trim());
        out.css.push('{');
        out.css.push_str(&body.css);
        out.close('}');
    }
}

fn at_rule(name: &str, p: &mut Parser, ctx: &Context, out: &mut Out, top: bool) {
    let mut prelude = Out::default();
    let kept = p.parse_until_before(Delimiter::CurlyBracketBlock | Delimiter::Semicolon, |p| {
        if name == "import" {
            import_target(p, ctx, &mut prelude)
        } else {
            copy_value(p, ctx, &mut prelude)
        }
    });
    let kept = kept.is_ok();
    let has_block = matches!(p.next(), Ok(Token::CurlyBracketBlock));
    let prelude = prelude.css.trim().to_owned();
    let keyframes = name == "keyframes" || name == "-webkit-keyframes";
    if name == "import" {
        if kept && top && !has_block {
            out.css.push_str(&format!("@import {prelude};"));
            out.last = None;
        }
        return;
    }
    if !has_block || !kept {
        return;
    }
    let mut body = Out::default();
    let _: Result<(), Failure> = p.parse_nested_block(|p| {
        if GROUPING_AT_RULES.contains(&name) {
            rules(p, ctx, &mut body, false);
        } else if DECLARATION_AT_RULES.contains(&name) {
            declarations(p, ctx, &mut body);
        } else if keyframes {
            keyframe_rules(p, ctx, &mut body);
        }
        Ok(())
    });
    let known = GROUPING_AT_RULES.contains(&name) || DECLARATION_AT_RULES.contains(&name);
    if known || keyframes {
        let name = if keyframes { "keyframes" } else { name };
        out.css.push('@');
        out.css.push_str(name);
        if !prelude.is_empty() {
            out.css.push(' ');
            out.css.push_str(&prelude);
        }
        out.css.push('{');
        out.append(body);
        out.close('}');
    }
}

/// `@import`'s target, which must be a stylesheet of the book, and its media list.
fn import_target<'i>(
    p: &mut Parser<'i, '_>,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), Failure<'i>> {
    let url = match p.next()?.clone() {
        Token::QuotedString(url) | Token::UnquotedUrl(url) => url,
        Token::Function(f) if f.eq_ignore_ascii_case("url") => {
            p.parse_nested_block(|p| Ok(p.expect_string()?.clone()))?
        }
        _ => return Err(p.new_custom_error(())),
    };
    let Target::Resource(path, _) = ctx.book.resolve(ctx.from, &url) else {
        return Err(p.new_custom_error(()));
    };
    out.css.push_str("url(");
    cssparser::serialize_string(&ctx.book.resource_url(&path, None), &mut out.css)
        .expect("writing to a String");
    out.css.push(')');
    out.last = None;
    let mut media = Out::default();
    copy_value(p, ctx, &mut media)?;
    if !media.css.trim().is_empty() {
        out.css.push(' ');
        out.css.push_str(media.css.trim());
    }
    Ok(())
}

fn keyframe_rules(p: &mut Parser, ctx: &Context, out: &mut Out) {
    loop {
        let mut selector = Out::default();
        let prelude: Result<(), Failure> = p
            .parse_until_before(Delimiter::CurlyBracketBlock, |p| {
                copy_value(p, ctx, &mut selector)
            });
        match p.next() {
            Ok(Token::CurlyBracketBlock) => {}
            _ => break,
        }
        let mut body = Out::default();
        let _: Result<(), Failure> = p.parse_nested_block(|p| {
            declarations(p, ctx, &mut body);
            Ok(())
        });
        if prelude.is_ok() {
            out.css.push_str(selector.css.trim());
            out.css.push('{');
            out.css.push_str(&body.css);
            out.close('}');
        }
    }
}

/// Declarations, each kept or dropped whole.
fn declarations(p: &mut Parser, ctx: &Context, out: &mut Out) {
    while !p.is_exhausted() {
        let mut value = Out::default();
        let declaration: Result<String, Failure> = p.parse_until_after(Delimiter::Semicolon, |p| {
            let name = p.expect_ident()?.to_ascii_lowercase();
            p.expect_colon()?;
            let Some(name) = property(&name) else {
                return Err(p.new_custom_error(()));
            };
            copy_value(p, ctx, &mut value)?;
            Ok(name)
        });
        let Ok(name) = declaration else { continue };
        let value = value.css.trim();
        if value.is_empty() || (name == "position" && is_fixed_position(value)) {
            continue;
        }
        out.css.push_str(&name);
        out.css.push(':');
        out.css.push_str(value);
        out.css.push(';');
        out.last = None;
    }
}

/// The standard name of a property the book may set, or `None`. Custom properties (`--x`) are
/// kept: their values are sanitized like any other.
fn property(name: &str) -> Option<String> {
    if name.starts_with("--") {
        return Some(name.to_owned());
    }
    let standard = match name.strip_prefix("-epub-") {
        // EPUB 3's name from before CSS settled on its own; the others only lost the prefix.
        Some("text-combine" | "text-combine-horizontal") => "text-combine-upright",
        Some(rest) => rest,
        None => name,
    };
    let unprefixed = ["-webkit-", "-moz-"]
        .iter()
        .find_map(|prefix| standard.strip_prefix(prefix))
        .unwrap_or(standard);
    let known = PROPERTIES.iter().any(|p| match p.strip_suffix('-') {
        Some(family) => unprefixed == family || unprefixed.starts_with(p),
        None => unprefixed == *p,
    });
    known.then(|| standard.to_owned())
}

/// A fixed or sticky box would lay the book over the reader's own controls.
fn is_fixed_position(value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    value.contains("fixed") || value.contains("sticky")
}

/// Copies a value's tokens (to the end of `p`), failing on anything that may not stay.
fn copy_value<'i>(p: &mut Parser<'i, '_>, ctx: &Context, out: &mut Out) -> Result<(), Failure<'i>> {
    loop {
        let token = match p.next_including_whitespace() {
            Ok(token) => token.clone(),
            Err(_) => return Ok(()),
        };
        match &token {
            Token::UnquotedUrl(url) => {
                let url = served_url(ctx, url).ok_or_else(|| p.new_custom_error(()))?;
                out.text(&url, TokenSerializationType::Nothing);
                out.last = None;
            }
            Token::Function(name) if name.eq_ignore_ascii_case("url") => {
                let url = p.parse_nested_block(|p| Ok(p.expect_string()?.clone()))?;
                let url = served_url(ctx, &url).ok_or_else(|| p.new_custom_error(()))?;
                out.text(&url, TokenSerializationType::Nothing);
                out.last = None;
            }
            Token::Function(name) => {
                if !FUNCTIONS.contains(&name.to_ascii_lowercase().as_str()) {
                    return Err(p.new_custom_error(()));
                }
                out.token(&token);
                p.parse_nested_block(|p| copy_value(p, ctx, out))?;
                out.close(')');
            }
            Token::ParenthesisBlock | Token::SquareBracketBlock => {
                out.token(&token);
                p.parse_nested_block(|p| copy_value(p, ctx, out))?;
                out.close(if matches!(token, Token::ParenthesisBlock) {
                    ')'
                } else {
                    ']'
                });
            }
            Token::CurlyBracketBlock
            | Token::BadUrl(_)
            | Token::BadString(_)
            | Token::AtKeyword(_)
            | Token::CDO
            | Token::CDC
            | Token::Semicolon
            | Token::CloseParenthesis
            | Token::CloseSquareBracket
            | Token::CloseCurlyBracket => return Err(p.new_custom_error(())),
            _ => out.token(&token),
        }
    }
}

/// `url("…")` of what a URL in the book points at, or `None` for anything outside it.
fn served_url(ctx: &Context, url: &str) -> Option<String> {
    let served = match ctx.book.resolve(ctx.from, url) {
        Target::Resource(path, fragment) => ctx.book.resource_url(&path, fragment.as_deref()),
        // `url(#id)` refers to an SVG filter or clip path in the document.
        Target::Fragment(fragment) => format!("#{fragment}"),
        Target::InertData => url.to_owned(),
        Target::Chapter(..) | Target::External | Target::Unusable => return None,
    };
    let mut out = String::from("url(");
    cssparser::serialize_string(&served, &mut out).expect("writing to a String");
    out.push(')');
    Some(out)
}

/// Copies a selector list, aiming `html`, `:root` and `body` at the chapter's root and body.
fn copy_selector<'i>(p: &mut Parser<'i, '_>, out: &mut Out) -> Result<(), Failure<'i>> {
    let mut previous: Option<Token> = None;
    loop {
        let token = match p.next_including_whitespace() {
            Ok(token) => token.clone(),
            Err(_) => return Ok(()),
        };
        // A name after `.`, `#`, `:` or `|` is a class, pseudo-class or namespaced name.
        let type_position = !matches!(previous, Some(Token::Delim('.' | '|')) | Some(Token::Colon));
        match &token {
            Token::Ident(name) if type_position && name.eq_ignore_ascii_case("html") => {
                out.text(ROOT_SELECTOR, TokenSerializationType::Nothing);
            }
            Token::Ident(name) if type_position && name.eq_ignore_ascii_case("body") => {
                out.text(BODY_SELECTOR, TokenSerializationType::Nothing);
            }
            Token::Ident(name)
                if matches!(previous, Some(Token::Colon)) && name.eq_ignore_ascii_case("root") =>
            {
                out.css.pop();
                out.text(ROOT_SELECTOR, TokenSerializationType::Nothing);
            }
            Token::Function(_) | Token::ParenthesisBlock | Token::SquareBracketBlock => {
                let attribute = matches!(token, Token::SquareBracketBlock);
                out.token(&token);
                p.parse_nested_block(|p| {
                    if attribute {
                        copy_plain(p, out)
                    } else {
                        copy_selector(p, out)
                    }
                })?;
                out.close(if attribute { ']' } else { ')' });
            }
            Token::UnquotedUrl(_)
            | Token::BadUrl(_)
            | Token::BadString(_)
            | Token::CurlyBracketBlock
            | Token::AtKeyword(_)
            | Token::CDO
            | Token::CDC
            | Token::Semicolon
            | Token::CloseParenthesis
            | Token::CloseSquareBracket
            | Token::CloseCurlyBracket => return Err(p.new_custom_error(())),
            _ => out.token(&token),
        }
        previous = Some(token);
    }
}

/// Copies an attribute selector's tokens as they are.
fn copy_plain<'i>(p: &mut Parser<'i, '_>, out: &mut Out) -> Result<(), Failure<'i>> {
    loop {
        let token = match p.next_including_whitespace() {
            Ok(token) => token.clone(),
            Err(_) => return Ok(()),
        };
        match token {
            Token::Ident(_)
            | Token::QuotedString(_)
            | Token::Delim(_)
            | Token::WhiteSpace(_)
            | Token::Number { .. } => out.token(&token),
            _ => return Err(p.new_custom_error(())),
        }
    }
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

    fn clean(css: &str) -> String {
        sanitize(css, "css/main.css", &book())
    }

    #[test]
    fn keeps_local_and_drops_dangerous() {
        let css = "@import url(http://evil/x.css); @import 'other.css' screen;\
                   p { color: red; background: url(img/x.png); width: exp/**/ression(alert(1)); }\
                   a { background: url('https://evil/t.gif') } b { x: \\75 rl(//evil) }\
                   i { -moz-binding: url(x.xml#y); behavior: url(x.htc); c: u\\72l(img/x.png) }\
                   s { background: image-set(\"https://evil/a.png\" 1x) }";
        let out = clean(css);
        assert!(
            out.contains(r#"@import url("/b/resources/css/other.css") screen;"#),
            "{out}"
        );
        assert!(
            out.contains(r#"background:url("/b/resources/css/img/x.png")"#),
            "{out}"
        );
        assert!(out.contains("color:red"), "{out}");
        for bad in [
            "evil",
            "ression",
            "binding",
            "behavior",
            "u\\72l",
            "image-set",
        ] {
            assert!(!out.contains(bad), "{bad} in {out}");
        }
    }

    #[test]
    fn urls_are_seen_through_escapes_and_odd_forms() {
        for css in [
            r"p{background:url(\2f\2f evil.example/a.png)}",
            r"p{background:url('\2f\2f evil.example/a.png')}",
            r"p{background:url(//evil.example/a.png)}",
            r"p{background:url(\\evil.example\a.png)}",
            r"p{background:url(https:evil.example/a.png)}",
            r#"p{background:image-set("https://evil.example/a.png" 1x)}"#,
            r#"p{background:-webkit-image-set(url(https://evil.example/a.png) 1x)}"#,
            r#"p{--x:url(https://evil.example/a.png);background:var(--x)}"#,
            r#"@font-face{src:url(https://evil.example/f.woff)}"#,
            r#"@import "https://evil.example/x.css";"#,
        ] {
            let out = clean(css);
            assert!(!out.contains("evil"), "{css} -> {out}");
        }
    }

    #[test]
    fn epub_properties_and_root_selectors_fit_the_reader() {
        let out = clean(
            "html{-epub-writing-mode:vertical-rl} :root{color:black} body p{-epub-text-combine:horizontal}\
             p.html{color:red} div.body{color:blue} .x{position:fixed;top:0}",
        );
        assert!(
            out.contains(".scholia-chapter{writing-mode:vertical-rl;}"),
            "{out}"
        );
        assert!(out.contains(".scholia-chapter{color:black;}"), "{out}");
        assert!(
            out.contains("[data-epub-body] p{text-combine-upright:horizontal;}"),
            "{out}"
        );
        assert!(out.contains("p.html{"), "{out}");
        assert!(out.contains("div.body{"), "{out}");
        assert!(!out.contains("fixed"), "{out}");
    }

    #[test]
    fn sanitizing_twice_changes_nothing() {
        let css = "@media screen and (min-width: 30em) { p.a > b::before { content: \"\\201C\"; \
                   margin: 0 auto !important; font: italic 1.2em/1.4 \"Noto Serif\", serif } }\
                   @font-face { font-family: X; src: url(img/x.png) format(\"woff2\") }\
                   @keyframes k { from { opacity: 0 } to { opacity: 1 } }";
        let once = clean(css);
        assert_eq!(clean(&once), once);
        assert!(
            once.contains("@media screen and (min-width: 30em){"),
            "{once}"
        );
        assert!(
            once.contains("@keyframes k{from{opacity:0;}to{opacity:1;}}"),
            "{once}"
        );
    }
}
