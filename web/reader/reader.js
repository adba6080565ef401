// The reading view, /read/{book}/{chapter}: the chapter in an open shadow root, its table of
// contents and neighbours, display settings, search, the reading position, annotating by
// selection or by passage, and the margin with the reader's choice of whose notes to see.

import { api, me, announce } from '../api.js';
import { navigate } from '../app.js';
import { loadChapter, isVertical, clearBookFonts } from './chapter.js';
import { passageText, context, sentencesOf } from './text.js';
import { Painter } from './highlights.js';
import { Toolbar, selectedAnchor, button } from './toolbar.js';
import { openEditor, ask } from './editor.js';
import { Margin } from './margin.js';
import { mountChoice } from './choice.js';
import { mountSearch } from './search.js';
import { savedPosition, trackProgress } from './progress.js';
import { mountSettings, applySettings } from './settings.js';

export const shortcuts = [
  { keys: 'j or ↓', description: 'On a passage: go to the next passage' },
  { keys: 'k or ↑', description: 'On a passage: go to the previous passage' },
  { keys: 'a or Enter', description: 'On a passage: annotate the whole passage (the Annotate passage button)' },
  { keys: 'n', description: 'Add a note to the selected text' },
  { keys: '[ and ]', description: 'The chapter on that side: previous and next, or next and previous in a right-to-left book' },
  { keys: '← and →', description: 'On a fixed-layout page: turn to the page on that side' },
  { keys: '/', description: 'Search in this book' },
  { keys: 'g', description: 'Go to the text (the passage you were at)' },
  { keys: 'm', description: 'Go to the margin (opens it on narrow screens)' },
  { keys: 'Escape', description: 'Close the toolbar, the editor or the margin drawer' },
];

const NARROW = '(max-width: 799px)';
const PAGE_SIZE = 500;

export async function mountReader(main, { bookId, chapter, passageId }) {
  await stylesheet();
  const reader = new Reader(main, bookId, chapter);
  try {
    await reader.open(passageId);
  } catch (e) {
    reader.unmount();
    throw e;
  } finally {
    main.removeAttribute('aria-busy');
  }
  return { unmount: () => reader.unmount() };
}

// The reader's stylesheet, added once and waited for, so that the first layout is final.
function stylesheet() {
  const href = new URL('./reader.css', import.meta.url).pathname;
  let link = document.querySelector(`link[href="${href}"]`);
  if (link) return Promise.resolve();
  link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  const loaded = new Promise((resolve) => {
    link.onload = resolve;
    link.onerror = resolve;
  });
  document.head.append(link);
  return loaded;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function within(parent) {
  const a = parent.audience;
  if (a === 'public') return () => true;
  if (a === 'private') return (value) => value === 'private';
  return (value) => value === 'private' || value === `group:${a.group}`;
}

class Reader {
  constructor(main, bookId, chapter) {
    this.main = main;
    this.bookId = bookId;
    this.chapter = chapter;
    this.cleanups = [];
    this.notes = [];
    this.waiting = new Set(); // passages where others' notes wait for mine
    this.activeId = null;
    this.choice = null;
    this.user = null;
    this.groups = [];
    this.revealed = new Set(); // passages revealed during this visit
    this.reloads = 0;
  }

  failed = (error) => announce(error.message, { assertive: true });

  listen(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    this.cleanups.push(() => target.removeEventListener(type, handler, options));
  }

  async open(passageId) {
    const main = this.main;
    main.classList.add('reader');
    main.setAttribute('aria-busy', 'true');
    applySettings(main);
    this.host = el('div', { class: 'chapter-host' });
    this.page = el('div', { class: 'reader-page' }, this.host);
    this.toc = el('nav', { class: 'reader-toc', 'aria-label': 'Table of contents' });
    this.layer = el('div', { class: 'margin-layer' });
    this.marginHead = el('div', { class: 'margin-head' });
    this.aside = el('aside', { class: 'reader-margin', 'aria-label': 'Margin', id: 'reader-margin', tabindex: '-1' }, this.marginHead, this.layer);
    this.bar = el('div', { class: 'reader-bar' });
    main.replaceChildren(this.bar, el('div', { class: 'reader-grid' }, this.toc, this.page, this.aside));

    const [book, user] = await Promise.all([api(`/api/books/${this.bookId}`), me().catch(() => null)]);
    this.book = book;
    this.user = user;
    const info = book.chapters.find((c) => c.index === this.chapter);
    if (!info) throw new Error(`This book has no chapter ${this.chapter}.`);
    // A fixed-layout chapter is one page drawn at its viewport's size, shown whole.
    this.viewport = book.rendition?.fixed_layout && info.viewport?.width > 0 && info.viewport?.height > 0
      ? info.viewport : null;
    this.rtl = book.rendition?.page_progression_direction === 'rtl';
    if (this.viewport) this.fixPage();
    document.title = `${info.title || this.untitled(this.chapter)} · ${book.title} · Scholia`;
    this.buildBar(info);
    this.buildToc();
    const close = button('Close margin', 'quiet drawer-close');
    close.addEventListener('click', () => this.closeDrawer());
    this.marginHead.append(close);

    // The notes come while the chapter is parsed and laid out.
    const firstAsk = ++this.reloads;
    const firstNotes = Promise.all([this.fetchNotes(), this.fetchWaiting()]);
    firstNotes.catch(() => {});
    const loaded = await Promise.all([
      loadChapter(this.host, this.bookId, this.chapter, { fixed: Boolean(this.viewport) }),
      user ? api('/api/groups').then((g) => g.items ?? g) : [],
    ]);
    const [{ root, chapterRoot, passages }, groups] = loaded;
    this.root = root;
    this.chapterRoot = chapterRoot;
    this.passages = passages;
    this.passageById = new Map(passages.map((p) => [p.dataset.passage, p]));
    this.groups = groups;
    this.buildChapterNav();
    this.scalePage();
    this.painter = new Painter(this.page);
    this.margin = new Margin(this.layer, { groups, actions: this.marginActions() });
    this.margin.setPassages(passages);
    this.margin.setMode({ aligned: !isVertical(chapterRoot) });
    this.makePassagesFocusable();

    if (user) {
      this.toolbar = new Toolbar(this.main, {
        highlight: (anchor, color) => this.highlight(anchor, color),
        note: (anchor, color) => this.addNote(anchor, color),
      });
      this.watchSelection();
      this.choice = (await mountChoice(this.marginHead, this.bookId, {
        changed: (now) => {
          this.choice = now;
          this.reloadNotes().then(() => announce(this.marginSummary()));
        },
        failed: this.failed,
      })).current;
      this.buildMarginTools();
    } else {
      this.marginHead.append(el('p', { class: 'hint' },
        'Sign in to highlight, write in the margin and read your groups’ notes.'));
    }
    this.watchLayout();
    this.watchKeys();
    try {
      const [notes, waiting] = await firstNotes;
      if (firstAsk === this.reloads) this.showNotes(notes, waiting);
    } catch (e) {
      this.failed(e);
    }
    await this.goToStart(passageId);
    // For bench/reader.mjs: the frame after this one shows the text and its margin.
    requestAnimationFrame(() => setTimeout(() => performance.mark('scholia:reader-painted')));
    if (user) this.cleanups.push(trackProgress(this.bookId, this.chapter, passages, this.failed));
  }

  unmount() {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.painter?.clear();
    clearBookFonts();
    document.body.classList.remove('margin-drawer-open');
  }

  // --- The chrome around the text ---

  // A chapter without a title is named by its place; a fixed-layout chapter is a page.
  untitled(index) {
    return `${this.viewport ? 'Page' : 'Chapter'} ${index + 1}`;
  }

  buildBar(info) {
    const title = el('h1', { class: 'reader-title' },
      el('span', { class: 'reader-book', text: this.book.title }),
      el('span', { class: 'reader-chapter', text: info.title || this.untitled(this.chapter) }));
    const tools = el('div', { class: 'reader-tools' });
    const disclosure = (label, build) => {
      const details = el('details', { class: 'reader-panel' }, el('summary', { text: label }));
      const body = el('div', { class: 'panel-body' });
      build(body);
      details.append(body);
      tools.append(details);
      return details;
    };
    this.searchPanel = disclosure('Search', (body) => mountSearch(body, this.bookId, { failed: this.failed }));
    disclosure('Display', (body) => mountSettings(body, this.main, () => this.relayout(), { fixed: Boolean(this.viewport) }));
    this.drawerButton = button('Margin', 'drawer-toggle');
    this.drawerButton.setAttribute('aria-controls', 'reader-margin');
    this.drawerButton.setAttribute('aria-expanded', 'false');
    this.drawerButton.addEventListener('click', () => this.toggleDrawer());
    tools.append(this.drawerButton);
    this.bar.append(title, tools);
  }

  buildToc() {
    const heading = el('h2', { text: 'Contents' });
    const list = (entries) => {
      const ol = el('ol');
      for (const entry of entries) {
        const li = el('li');
        if (entry.chapter !== null && entry.chapter !== undefined) {
          const fragment = entry.href.includes('#') ? entry.href.slice(entry.href.indexOf('#')) : '';
          const a = el('a', { href: `/read/${this.bookId}/${entry.chapter}${fragment}`, text: entry.title || 'Untitled' });
          if (entry.chapter === this.chapter && !fragment) a.setAttribute('aria-current', 'page');
          li.append(a);
        } else {
          li.append(el('span', { text: entry.title }));
        }
        if (entry.children?.length) li.append(list(entry.children));
        ol.append(li);
      }
      return ol;
    };
    const toc = this.book.toc?.length ? this.book.toc
      : this.book.chapters.map((c) => ({ title: c.title || this.untitled(c.index), href: '', chapter: c.index, children: [] }));
    this.toc.append(heading, list(toc));
  }

  buildChapterNav() {
    const indexes = this.book.chapters.map((c) => c.index);
    const at = indexes.indexOf(this.chapter);
    // The controls sit where the book turns: in a right-to-left book the next page is on the
    // left. The arrows are drawn, not named.
    const nav = el('nav', { class: `chapter-nav${this.rtl ? ' rtl' : ''}`, 'aria-label': 'Chapters' });
    const link = (rel, index, text, arrowFirst) => {
      const arrow = el('span', { class: 'arrow', 'aria-hidden': 'true', text: arrowFirst ? '←' : '→' });
      const a = el('a', { href: `/read/${this.bookId}/${index}`, rel });
      if (arrowFirst) a.append(arrow, text);
      else a.append(text, arrow);
      return a;
    };
    if (at > 0) nav.append(link('prev', indexes[at - 1], 'Previous chapter', !this.rtl));
    if (at < indexes.length - 1) nav.append(link('next', indexes[at + 1], 'Next chapter', this.rtl));
    this.neighbours = { prev: indexes[at - 1], next: indexes[at + 1] };
    this.page.append(nav);
  }

  buildMarginTools() {
    this.fold = button('Fold margin', 'quiet');
    this.fold.setAttribute('aria-pressed', 'false');
    this.fold.addEventListener('click', () => {
      const folded = this.fold.getAttribute('aria-pressed') !== 'true';
      this.fold.setAttribute('aria-pressed', String(folded));
      this.margin.setMode({ folded });
    });
    this.muted = el('div', { class: 'muted-notice' });
    this.summary = el('p', { class: 'hint margin-summary' });
    this.marginHead.append(el('div', { class: 'margin-tools' }, this.summary, this.fold), this.muted);
  }

  marginSummary() {
    const count = this.notes.filter((n) => !n.deleted).length;
    const mode = { none: 'your own notes', groups: 'your groups’ notes', everyone: 'everyone’s notes' }[this.choice?.margin] ?? 'notes';
    return `Showing ${mode}: ${count} in this chapter.`;
  }

  // --- Notes ---

  async fetchNotes() {
    const notes = [];
    let cursor = null;
    do {
      const page = await api(`/api/books/${this.bookId}/annotations?chapter=${this.chapter}&order=reading&limit=${PAGE_SIZE}` +
        (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
      notes.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return notes;
  }

  // The passages where others' notes wait behind "my reading first": the counts say so
  // without showing them.
  async fetchWaiting() {
    if (!this.user) return new Set();
    const counts = await api(`/api/books/${this.bookId}/annotations/counts?chapter=${this.chapter}`);
    return new Set(Object.keys(counts.waiting ?? {}));
  }

  // Only the latest of overlapping reloads (quick changes of the choice) is shown.
  async reloadNotes() {
    const asked = ++this.reloads;
    try {
      const [notes, waiting] = await Promise.all([this.fetchNotes(), this.fetchWaiting()]);
      if (asked === this.reloads) this.showNotes(notes, waiting);
    } catch (e) {
      this.failed(e);
    }
  }

  showNotes(notes, waiting) {
    this.notes = notes;
    this.waiting = waiting;
    this.margin.setNotes(notes);
    this.painter.paint(notes, this.passageById);
    if (this.summary) this.summary.textContent = this.marginSummary();
    this.updateActive();
    this.drawerButton.textContent = `Margin (${notes.filter((n) => !n.deleted).length})`;
  }

  anchorBody(anchor, extra) {
    const model = passageText(anchor.passage);
    const { prefix, suffix } = context(model, anchor.start, anchor.end);
    return {
      book_id: this.bookId,
      passage_id: anchor.passage.dataset.passage,
      start: anchor.start,
      end: anchor.end,
      exact: anchor.exact,
      prefix,
      suffix,
      ...extra,
    };
  }

  async highlight(anchor, color) {
    try {
      await api('/api/annotations', { method: 'POST', body: this.anchorBody(anchor, { color, motivation: 'highlighting' }) });
      document.getSelection()?.removeAllRanges();
      await this.reloadNotes();
      announce('Highlighted.');
    } catch (e) {
      this.failed(e);
    }
  }

  // `choices`: other anchors the reader may quote instead (a passage's sentences).
  async addNote(anchor, color, choices = null) {
    const options = choices && [anchor, ...choices];
    const saved = await openEditor({
      title: 'Write in the margin',
      quote: anchor.exact,
      parts: options && options.map((a, i) => ({
        label: i === 0 ? 'The whole passage' : `Sentence ${i}: ${a.exact.length > 60 ? `${a.exact.slice(0, 57)}…` : a.exact}`,
        quote: a.exact,
      })),
      groups: this.groups,
      save: ({ body, audience, tags, part }) => api('/api/annotations', {
        method: 'POST', body: this.anchorBody(options ? options[part] : anchor, { body, audience, tags, color }),
      }),
    });
    if (!saved) {
      this.setActive(anchor.passage);
      return;
    }
    document.getSelection()?.removeAllRanges();
    await this.afterSave(saved, 'Note saved.');
  }

  async afterSave(saved, message) {
    await this.reloadNotes();
    this.openDrawer();
    if (!this.margin.focusNote(saved.id)) this.aside.focus();
    announce(message);
  }

  marginActions() {
    return {
      reply: async (note) => {
        const saved = await openEditor({
          title: `Reply to ${note.author.display_name}`,
          quote: note.body || note.exact,
          audience: note.audience,
          allowed: within(note),
          groups: this.groups,
          save: ({ body, audience, tags }) => api('/api/annotations', {
            method: 'POST', body: { book_id: this.bookId, reply_to: note.id, body, audience, tags },
          }),
        });
        if (saved) await this.afterSave(saved, 'Reply saved.');
      },
      edit: async (note) => {
        const parent = note.reply_to && this.notes.find((n) => n.id === note.reply_to);
        const saved = await openEditor({
          title: 'Change what you wrote',
          quote: note.reply_to ? '' : note.exact,
          body: note.body ?? '',
          audience: note.audience,
          tags: note.tags,
          allowed: parent ? within(parent) : () => true,
          groups: this.groups,
          save: ({ body, audience, tags }) => api(`/api/annotations/${note.id}`, {
            method: 'PATCH', body: { body: body.trim() ? body : null, audience, tags },
          }),
        });
        if (saved) await this.afterSave(saved, 'Note updated.');
      },
      remove: async (note) => {
        const done = await ask({
          title: 'Delete this note?',
          message: note.replies ? 'Its replies stay, under a note that says it was deleted.' : 'This cannot be undone.',
          submit: 'Delete',
          act: () => api(`/api/annotations/${note.id}`, { method: 'DELETE' }),
        });
        if (done) {
          await this.reloadNotes();
          announce('Note deleted.');
          this.aside.focus();
        }
      },
      report: async (note) => {
        const done = await ask({
          title: `Report ${note.author.display_name}’s note`,
          message: 'The group’s facilitators (or, for a public note, the admins) will see your report; its author will not.',
          field: 'Reason',
          submit: 'Report',
          act: (reason) => api(`/api/annotations/${note.id}/reports`, { method: 'POST', body: { reason } }),
        });
        if (done) announce('Reported. Thank you.');
      },
      mute: async (note) => {
        try {
          await api('/api/me/mutes', { method: 'POST', body: { user_id: note.author.id } });
          this.showMuted(note.author);
          await this.reloadNotes();
          announce(`Muted ${note.author.display_name}: their notes no longer show in your margin.`);
        } catch (e) {
          this.failed(e);
        }
      },
      reveal: async (passageId) => {
        try {
          await api(`/api/books/${this.bookId}/passages/${encodeURIComponent(passageId)}/reveal`, { method: 'POST' });
          this.revealed.add(passageId);
          await this.reloadNotes();
          const n = this.margin.count(passageId);
          announce(n ? `${n} ${n === 1 ? 'note' : 'notes'} revealed on this passage.` : 'Nobody else has written here yet.');
          this.margin.layer.querySelector(`[data-for="${CSS.escape(passageId)}"] article`)?.focus();
        } catch (e) {
          this.failed(e);
        }
      },
      unfold: (passageId) => {
        this.fold.setAttribute('aria-pressed', 'false');
        this.margin.setMode({ folded: false });
        this.margin.layer.querySelector(`[data-for="${CSS.escape(passageId)}"] article`)?.focus();
      },
    };
  }

  showMuted(author) {
    const unmute = button(`Unmute ${author.display_name}`, 'quiet');
    const line = el('p', {}, `You muted ${author.display_name}. `, unmute);
    unmute.addEventListener('click', async () => {
      try {
        await api(`/api/me/mutes/${author.id}`, { method: 'DELETE' });
        line.remove();
        await this.reloadNotes();
        announce(`Unmuted ${author.display_name}.`);
      } catch (e) {
        this.failed(e);
      }
    });
    this.muted.append(line);
  }

  // --- Passages: focus, the active passage, Annotate passage ---

  makePassagesFocusable() {
    const first = this.passages[0];
    if (first) first.tabIndex = 0;
    this.annotatePassage = button('Annotate passage', 'annotate-passage');
    this.annotatePassage.hidden = true;
    this.annotatePassage.addEventListener('click', () => this.annotateWholePassage());
    this.host.after(this.annotatePassage);
    this.listen(this.root, 'focusin', (e) => {
      const passage = e.target.closest?.('[data-passage]');
      if (passage) this.setActive(passage, { focus: false });
    });
    this.listen(this.root, 'focusout', (e) => {
      if (e.relatedTarget !== this.annotatePassage) this.annotatePassage.hidden = true;
    });
    this.listen(this.annotatePassage, 'blur', (e) => {
      if (!e.relatedTarget?.closest?.('[data-passage]')) this.annotatePassage.hidden = true;
    });
    this.listen(this.root, 'click', (e) => {
      const passage = e.target.closest?.('[data-passage]');
      if (passage && !selectedAnchor(this.root)) this.setActive(passage, { focus: false, button: false });
      const link = e.target.closest?.('a[href]');
      if (link && !e.defaultPrevented && e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey) this.follow(link, e);
    });
  }

  // The book's own links name chapters by their API URL: they open in the reader instead.
  follow(link, event) {
    const url = new URL(link.getAttribute('href'), location.href);
    const fragment = decodeURIComponent(url.hash.slice(1));
    const chapter = url.origin === location.origin &&
      url.pathname.match(new RegExp(`^/api/books/${this.bookId}/chapters/(\\d+)$`));
    if (link.getAttribute('href').startsWith('#') || (chapter && Number(chapter[1]) === this.chapter)) {
      event.preventDefault();
      if (fragment) history.pushState(null, '', `#${encodeURIComponent(fragment)}`);
      this.scrollTo(fragment, { focus: true });
    } else if (chapter) {
      event.preventDefault();
      navigate(`/read/${this.bookId}/${chapter[1]}${fragment ? `#${encodeURIComponent(fragment)}` : ''}`);
    }
  }

  setActive(passage, { focus = true, button: showButton = true } = {}) {
    if (this.activeId && this.passageById.get(this.activeId) !== passage) {
      const old = this.passageById.get(this.activeId);
      old?.classList.remove('scholia-active');
      old?.setAttribute('tabindex', '-1');
    }
    this.activeId = passage.dataset.passage;
    passage.classList.add('scholia-active');
    passage.tabIndex = 0;
    if (focus) passage.focus({ preventScroll: true });
    if (this.user && showButton) {
      this.annotatePassage.hidden = false;
      this.placeAnnotateButton(passage);
    }
    this.updateActive();
  }

  // Above the passage's corner; on a fixed-layout page, inside the page's corner.
  placeAnnotateButton(passage) {
    const page = (this.stage ?? this.page).getBoundingClientRect();
    const r = passage.getBoundingClientRect();
    this.annotatePassage.style.top = `${Math.max(0, r.top - page.top)}px`;
  }

  // The active passage offers `Reveal notes` where others' notes wait for my own (the server
  // keeps them back until I write there or reveal them).
  updateActive() {
    if (!this.margin || !this.user) return;
    const id = this.activeId;
    const mine = this.notes.some((n) => n.passage_id === id && n.mine && !n.deleted);
    const revealable = Boolean(id && this.choice?.myReadingFirst && this.waiting?.has(id) &&
      !mine && !this.revealed.has(id));
    if (this.margin.active?.passageId !== id || this.margin.active?.revealable !== revealable) {
      this.margin.setActive(id, revealable);
    }
  }

  annotateWholePassage(passage = this.passageById.get(this.activeId)) {
    if (!passage || !this.user) return;
    const model = passageText(passage);
    if (!model.length) {
      announce('This passage has no text to annotate.', { assertive: true });
      return;
    }
    const lang = passage.closest('[lang]')?.getAttribute('lang') || undefined;
    const sentences = sentencesOf(model, lang).map((s) => ({ passage, ...s }));
    this.addNote({ passage, start: 0, end: model.length, exact: model.text }, this.toolbar.color,
      sentences.length > 1 ? sentences : null);
  }

  movePassage(step) {
    const at = this.passages.findIndex((p) => p.dataset.passage === this.activeId);
    const next = this.passages[Math.max(0, Math.min(this.passages.length - 1, at + step))];
    if (!next) return;
    this.setActive(next);
    next.scrollIntoView({ block: 'nearest', behavior: reducedMotion() ? 'auto' : 'smooth' });
  }

  // `focus`: a link or the URL named the place, so the reader is taken there (keyboard focus
  // and the passage marked); restoring the last position only scrolls.
  scrollTo(id, { focus = false } = {}) {
    const target = this.passageById.get(id) ?? this.root.getElementById(id);
    if (!target) return false;
    target.scrollIntoView({ block: 'start' });
    const passage = target.closest('[data-passage]') ?? target.querySelector('[data-passage]');
    if (passage && focus) this.setActive(passage);
    return true;
  }

  async goToStart(passageId) {
    if (passageId && this.scrollTo(passageId, { focus: true })) {
      // The shell focuses the page's heading once the view is mounted; the URL named a
      // passage, so the passage has the last word.
      setTimeout(() => this.scrollTo(passageId, { focus: true }));
      return;
    }
    if (!this.user) return;
    try {
      const saved = await savedPosition(this.bookId);
      if (saved && saved.chapter === this.chapter && saved.passage) this.scrollTo(saved.passage);
    } catch (e) {
      this.failed(e);
    }
  }

  // --- Selection, keys, layout ---

  watchSelection() {
    let timer = 0;
    const check = () => {
      const anchor = selectedAnchor(this.root);
      if (anchor) {
        this.toolbar.show(anchor, anchor.rect);
      } else if (this.toolbar.visible && !this.toolbar.bar.contains(document.activeElement)) {
        this.toolbar.hide();
      }
    };
    this.listen(document, 'selectionchange', () => {
      clearTimeout(timer);
      timer = setTimeout(check, 120);
    });
    this.cleanups.push(() => clearTimeout(timer));
  }

  watchKeys() {
    this.listen(this.root, 'keydown', (e) => {
      const passage = e.target.closest?.('[data-passage]');
      if (!passage || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'ArrowDown' || e.key === 'j') {
        e.preventDefault();
        this.movePassage(1);
      } else if (e.key === 'ArrowUp' || e.key === 'k') {
        e.preventDefault();
        this.movePassage(-1);
      } else if ((e.key === 'a' || e.key === 'Enter') && e.target === passage) {
        e.preventDefault();
        this.annotateWholePassage(passage);
      }
    });
    this.listen(document, 'keydown', (e) => {
      const target = e.composedPath()[0] ?? e.target;
      if (e.ctrlKey || e.metaKey || e.altKey || target.closest?.('input, textarea, select, dialog')) return;
      const turn = this.turnKey(e.key, target);
      if (e.key === 'Escape') {
        this.toolbar?.hide();
        this.closeDrawer();
      } else if (turn) {
        e.preventDefault();
        this.main.querySelector(`a[rel=${turn}]`)?.click();
      } else if (e.key === '/') {
        e.preventDefault();
        this.searchPanel.open = true;
        this.searchPanel.querySelector('input')?.focus();
      } else if (e.key === 'n' && this.toolbar?.anchor) {
        e.preventDefault();
        this.toolbar.act((anchor, color) => this.addNote(anchor, color));
      } else if (e.key === 'g') {
        const passage = this.passageById.get(this.activeId) ?? this.passages[0];
        if (passage) this.setActive(passage);
      } else if (e.key === 'm') {
        this.openDrawer();
        (this.layer.querySelector('article') ?? this.aside.querySelector('input, button'))?.focus();
      }
    });
  }

  // The chapter a key turns to, 'prev' or 'next', or null: `[` and `]` (and, on fixed-layout
  // pages, which do not scroll sideways, ← and →) go to the side they name, which in a
  // right-to-left book is the next page for the left one.
  turnKey(key, target) {
    const arrows = this.viewport && !target.closest?.('input, textarea, select, button, a, details');
    const side = key === '[' || (arrows && key === 'ArrowLeft') ? 'left'
      : key === ']' || (arrows && key === 'ArrowRight') ? 'right' : null;
    if (!side) return null;
    const rel = (side === 'left') !== this.rtl ? 'prev' : 'next';
    return this.neighbours[rel] === undefined ? null : rel;
  }

  // The page box at its viewport's size, scaled (never reflowed) to fit the reading area's
  // width and the window's height below the bar, with room for the chapter controls.
  fixPage() {
    this.main.classList.add('fixed-layout');
    this.stage = el('div', { class: 'page-stage' });
    this.host.replaceWith(this.stage);
    this.stage.append(this.host);
    this.host.style.width = `${this.viewport.width}px`;
    this.host.style.height = `${this.viewport.height}px`;
    this.scalePage();
  }

  scalePage() {
    if (!this.viewport) return;
    const { width, height } = this.viewport;
    const nav = this.page.querySelector('.chapter-nav');
    const below = (nav ? nav.getBoundingClientRect().height + parseFloat(getComputedStyle(nav).marginTop) : 48) + 16;
    const top = this.page.getBoundingClientRect().top + window.scrollY;
    const bar = this.bar.getBoundingClientRect().height;
    // The page fits below the sticky bar once scrolled to, and on opening below the header.
    const room = Math.max(200, Math.min(window.innerHeight - top, window.innerHeight - bar - 24) - below);
    const scale = Math.min(this.page.clientWidth / width, room / height);
    this.host.style.transform = `scale(${scale})`;
    this.host.style.setProperty('--page-scale', String(scale));
    this.stage.style.width = `${width * scale}px`;
    this.stage.style.height = `${height * scale}px`;
    this.scale = scale;
  }

  watchLayout() {
    this.listen(window, 'hashchange', () => this.scrollTo(decodeURIComponent(location.hash.slice(1)), { focus: true }));
    this.listen(window, 'scroll', () => this.margin.scheduleRender(), { passive: true });
    this.listen(this.aside, 'scroll', () => this.margin.scheduleRender(), { passive: true });
    let frame = 0;
    // A new width reflows the cards, so they are drawn again; the text growing (an image
    // loaded, a font) only moves them, and a focused card keeps its focus.
    let redrawing = false;
    const relayout = (redraw) => {
      redrawing ||= redraw;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        this.relayout(redrawing);
        redrawing = false;
      });
    };
    this.listen(window, 'resize', () => relayout(true));
    const observer = new ResizeObserver(() => relayout(false));
    observer.observe(this.host);
    this.cleanups.push(() => observer.disconnect());
    const narrow = matchMedia(NARROW);
    const setDrawer = () => {
      this.margin.setMode({ drawer: narrow.matches });
      if (!narrow.matches) this.closeDrawer();
      this.aside.hidden = narrow.matches && !document.body.classList.contains('margin-drawer-open');
    };
    this.listen(narrow, 'change', setDrawer);
    setDrawer();
  }

  relayout(redraw = true) {
    this.scalePage();
    if (redraw) this.margin.setMode({});
    else this.margin.layout();
    this.painter.redraw();
    const active = this.passageById.get(this.activeId);
    if (active && !this.annotatePassage.hidden) this.placeAnnotateButton(active);
  }

  toggleDrawer() {
    if (document.body.classList.contains('margin-drawer-open')) this.closeDrawer();
    else this.openDrawer();
  }

  openDrawer() {
    if (!matchMedia(NARROW).matches) return;
    document.body.classList.add('margin-drawer-open');
    this.aside.hidden = false;
    this.drawerButton.setAttribute('aria-expanded', 'true');
    this.margin.setMode({ drawer: true });
  }

  closeDrawer() {
    if (!document.body.classList.contains('margin-drawer-open')) return;
    document.body.classList.remove('margin-drawer-open');
    this.drawerButton.setAttribute('aria-expanded', 'false');
    if (matchMedia(NARROW).matches) this.aside.hidden = true;
    this.drawerButton.focus();
  }
}

function reducedMotion() {
  return matchMedia('(prefers-reduced-motion: reduce)').matches;
}
