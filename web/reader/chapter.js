// A chapter in an open shadow root: the sanitized HTML from the API, the book's own CSS
// scoped to it (its `html`/`body` rules mapped onto the chapter's root elements, so writing
// mode and direction still apply), and the reader's own overrides for font size and theme.

// Reflowable chapters take the reader's font size, measure and theme.
const REFLOW_CSS = `
:host { display: block; }
.scholia-chapter {
  font-size: var(--reader-font-size, 1.125rem) !important;
  line-height: var(--reader-line-height, 1.6);
  color: inherit !important;
  background: transparent !important;
  max-width: none !important;
  margin: 0 !important;
  overflow-wrap: break-word;
}
/* Vertical lines fill the column and scroll sideways within it, not past the margin. */
.scholia-chapter[data-vertical] { width: 100%; max-width: 100% !important; box-sizing: border-box; overflow-x: auto; max-height: 75vh; padding: 0 0 1rem; }
[data-epub-body] { margin: 0 !important; background: transparent !important; color: inherit !important; }
img, svg, video { max-width: 100%; height: auto; }
a { color: var(--reader-link, #1d4f91); }
`;

// A fixed-layout page keeps the book's own sizes, positions and colours (it was drawn for
// them) on a sheet of its viewport's size; the reader scales the sheet.
const FIXED_CSS = `
:host { display: block; }
.chapter-content { width: 100%; height: 100%; }
.scholia-chapter { position: relative; width: 100%; height: 100%; overflow: hidden; background: #fff; color: #000; font-size: 16px; line-height: normal; }
/* The page is scaled down: its focus ring is drawn at the screen's size. */
[data-passage]:focus { outline-width: calc(3px / var(--page-scale, 1)); outline-offset: calc(-3px / var(--page-scale, 1)); }
[data-passage].scholia-active { box-shadow: none; }
`;

// Passages and highlights, in either layout.
const COMMON_CSS = `
[data-passage] { border-radius: 2px; scroll-margin-block: 30vh; }
[data-passage]:focus { outline: 2px solid var(--reader-focus, #1d4f91); outline-offset: 3px; }
[data-passage].scholia-active { box-shadow: -0.6rem 0 0 -0.35rem var(--reader-accent, #b6862c); }
.scholia-chapter[data-vertical] [data-passage].scholia-active { box-shadow: 0 -0.6rem 0 -0.35rem var(--reader-accent, #b6862c); }
::highlight(scholia-yellow) { background-color: var(--hl-yellow, rgba(255, 214, 0, 0.42)); }
::highlight(scholia-green) { background-color: var(--hl-green, rgba(90, 200, 90, 0.35)); }
::highlight(scholia-blue) { background-color: var(--hl-blue, rgba(80, 150, 255, 0.33)); }
::highlight(scholia-pink) { background-color: var(--hl-pink, rgba(255, 110, 170, 0.33)); }
::highlight(scholia-purple) { background-color: var(--hl-purple, rgba(170, 110, 255, 0.33)); }
::highlight(scholia-orange) { background-color: var(--hl-orange, rgba(255, 150, 50, 0.38)); }
::highlight(scholia-note) { text-decoration: underline 2px var(--reader-accent, #b6862c); text-underline-offset: 3px; }
::highlight(scholia-search) { background-color: var(--hl-search, rgba(255, 150, 50, 0.5)); }
`;

// `html`, `body` and `:root` in the book's CSS name the document, which a shadow root lacks.
const ROOT_SELECTOR = /(^|[\s>+~,(])(html|:root)(?=$|[\s>+~,.:#[)])/gi;
const BODY_SELECTOR = /(^|[\s>+~,(])body(?=$|[\s>+~,.:#[)])/gi;
// EPUB 3's prefixed properties that Chromium knows only unprefixed.
const EPUB_PREFIXED = /-epub-(writing-mode|text-orientation|text-combine-upright|text-combine|hyphens|text-emphasis[a-z-]*)\s*:/gi;

/**
 * Fetches chapter `index` of `bookId` and renders it into `host`'s open shadow root; `fixed`:
 * a fixed-layout page, laid out at its viewport's size (the caller scales it).
 */
export async function loadChapter(host, bookId, index, { fixed = false } = {}) {
  const response = await fetch(`/api/books/${bookId}/chapters/${index}`, {
    headers: { Accept: 'application/json, text/html' },
    credentials: 'same-origin',
  });
  if (!response.ok) {
    let message = `The chapter could not be loaded (${response.status}).`;
    try {
      const problem = await response.json();
      message = problem.detail || problem.title || message;
    } catch {
      // Not JSON: keep the status.
    }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  const type = response.headers.get('Content-Type') || '';
  const html = type.includes('json') ? (await response.json()).html : await response.text();

  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  const own = document.createElement('style');
  own.textContent = fixed ? COMMON_CSS + FIXED_CSS : REFLOW_CSS + COMMON_CSS;
  const content = document.createElement('div');
  content.className = 'chapter-content';
  content.innerHTML = html;
  showFonts(await scopeBookStyles(content));
  root.replaceChildren(content, own);
  const chapterRoot = content.querySelector('.scholia-chapter') ?? content;
  applyWritingMode(chapterRoot);
  return { root, chapterRoot, passages: [...content.querySelectorAll('[data-passage]')] };
}

// Replaces the chapter's stylesheet links by <style>s of the same CSS with its document
// selectors mapped onto the chapter: same origin, so the text is fetched (and cached). Its
// url()s are made absolute, since a <style> resolves them against the page's URL, not the
// stylesheet's. Returns the @font-face rules found.
async function scopeBookStyles(content) {
  const fonts = [];
  const inline = [...content.querySelectorAll('style')];
  for (const style of inline) {
    fonts.push(...(style.textContent.match(FONT_FACE) ?? []));
    style.textContent = rewrite(style.textContent);
  }
  const links = [...content.querySelectorAll('link[rel~="stylesheet"]')];
  await Promise.all(links.map(async (link) => {
    const style = document.createElement('style');
    try {
      const response = await fetch(link.href, { credentials: 'same-origin' });
      const css = response.ok ? absoluteUrls(await response.text(), response.url || link.href) : '';
      fonts.push(...(css.match(FONT_FACE) ?? []));
      style.textContent = rewrite(css);
    } catch {
      style.textContent = '';
    }
    link.replaceWith(style);
  }));
  return fonts;
}

const URL_REF = /url\(\s*(['"]?)([^'")]+)\1\s*\)/gi;
const FONT_FACE = /@font-face\s*\{[^}]*\}/gi;

function absoluteUrls(css, base) {
  return css.replace(URL_REF, (whole, _quote, ref) => (/^(data:|#)/i.test(ref) ? whole : `url("${new URL(ref, base).href}")`));
}

// Chromium ignores @font-face inside a shadow root, so the book's fonts are declared on the
// document, for as long as the chapter is shown.
function showFonts(rules) {
  let style = document.getElementById('scholia-book-fonts');
  if (!rules.length) {
    style?.remove();
    return;
  }
  if (!style) {
    style = document.createElement('style');
    style.id = 'scholia-book-fonts';
    document.head.append(style);
  }
  style.textContent = rules.join('\n');
}

/** Forgets the book's fonts (the reader is closed). */
export function clearBookFonts() {
  showFonts([]);
}

function rewrite(css) {
  return css.replace(EPUB_PREFIXED, (_, property) => `${property.toLowerCase()}:`)
    .replace(/([^{};]*)\{/g, (block, selectors) => {
      if (/^\s*@/.test(selectors)) return block;
      return `${selectors.replace(ROOT_SELECTOR, '$1.scholia-chapter').replace(BODY_SELECTOR, '$1[data-epub-body]')}{`;
    });
}

// Vertical writing and direction come from the book's CSS and markup; the reader only marks
// the root so that its own layout (scrolling, the margin) follows.
function applyWritingMode(chapterRoot) {
  const body = chapterRoot.querySelector('[data-epub-body]') ?? chapterRoot;
  const mode = getComputedStyle(body).writingMode || 'horizontal-tb';
  if (mode.startsWith('vertical') || mode.startsWith('sideways')) chapterRoot.dataset.vertical = mode;
  else delete chapterRoot.dataset.vertical;
}

/** Whether the chapter is laid out in vertical lines. */
export function isVertical(chapterRoot) {
  return 'vertical' in chapterRoot.dataset;
}
