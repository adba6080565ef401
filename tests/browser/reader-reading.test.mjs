// Reading: the table of contents and the neighbouring chapters, search jumping to a passage,
// the reading position following the reader to another device, and the display settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, createUser, apiAs } from './helpers.mjs';
import { openChapter, dragSelect } from './reader-fixtures.mjs';

test('contents, neighbours, search to a passage, position across devices, display settings', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const { id: bookId } = await librarian.upload('moby-dick.epub', { access: 'public' });
    const who = await createUser(world.server, 'ishmael', { displayName: 'Ishmael' });
    const api = await apiAs(world.server, who);
    const book = await api.get(`/api/books/${bookId}`);
    const withText = book.chapters.filter((c) => c.passages > 20);
    const chapter = withText[1].index;

    const page = await newPage(world.browser, world.server);
    await signIn(page, who);
    await openChapter(page, bookId, chapter);
    const toc = page.getByRole('navigation', { name: 'Table of contents' });
    assert.ok(await toc.getByRole('link').count() > 10, 'the contents list the chapters');
    await page.getByRole('link', { name: 'Next chapter' }).click();
    await page.waitForURL(new RegExp(`/read/${bookId}/${chapter + 1}$`));
    await page.locator('main.reader:not([aria-busy]) [data-passage]').first().waitFor();
    await page.getByRole('link', { name: 'Previous chapter' }).click();
    await page.waitForURL(new RegExp(`/read/${bookId}/${chapter}$`));
    await page.locator('main.reader:not([aria-busy]) [data-passage]').first().waitFor();

    // Search for a word far into another chapter and follow the result.
    const far = withText[withText.length - 2];
    const passages = await api.get(`/api/books/${bookId}/passages?chapter=${far.index}&limit=500`);
    const target = passages.items[Math.floor(passages.items.length / 2)];
    const words = target.text.split(/\W+/).filter((w) => w.length > 6).slice(0, 3).join(' ');
    await page.locator('summary', { hasText: 'Search' }).click();
    await page.getByLabel('Search in this book').fill(words);
    await page.getByLabel('Search in this book').press('Enter');
    const hit = page.locator(`.search-results a[href$="#${target.id}"]`);
    await hit.click();
    await page.waitForURL(new RegExp(`/read/${bookId}/${far.index}#${target.id}$`));
    const passage = page.locator(`main [data-passage="${target.id}"]`);
    await passage.waitFor();
    await page.waitForFunction((id) => {
      const p = document.querySelector('.chapter-host').shadowRoot.querySelector(`[data-passage="${id}"]`);
      const r = p.getBoundingClientRect();
      return r.top >= 0 && r.top < innerHeight;
    }, target.id);

    // The position is saved once scrolling stops, and restored in another browser.
    await page.waitForFunction(async ([book, id]) => {
      const r = await fetch(`/api/me/progress/${book}`);
      return r.ok && (await r.json()).passage != null;
    }, [bookId, target.id], { polling: 500, timeout: 10000 });
    const saved = await api.get(`/api/me/progress/${bookId}`);
    assert.equal(saved.chapter, far.index);
    const elsewhere = await newPage(world.browser, world.server, { viewport: { width: 900, height: 700 } });
    await signIn(elsewhere, who);
    await openChapter(elsewhere, bookId, far.index);
    await elsewhere.waitForFunction((id) => {
      const p = document.querySelector('.chapter-host').shadowRoot.querySelector(`[data-passage="${id}"]`);
      const r = p.getBoundingClientRect();
      return r.bottom > 0 && r.top < innerHeight;
    }, saved.passage);

    // Display: a larger font and the dark theme apply at once and stay.
    const size = () => page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.chapter-host').shadowRoot.querySelector('[data-passage]')).fontSize));
    const before = await size();
    await page.locator('summary', { hasText: 'Display' }).click();
    await page.getByRole('button', { name: 'Larger text' }).click();
    assert.ok(await size() > before, 'the text grew');
    await page.getByLabel('Theme').selectOption({ label: 'Dark' });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.reload();
    await page.locator('main.reader:not([aria-busy]) [data-passage]').first().waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  } finally {
    await world.stop();
  }
});

test('on a narrow screen the margin is a drawer', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const { id: bookId } = await librarian.upload('alice.epub', { access: 'public' });
    const who = await createUser(world.server, 'nora', { displayName: 'Nora' });
    const api = await apiAs(world.server, who);
    const book = await api.get(`/api/books/${bookId}`);
    const chapter = book.chapters.find((c) => c.passages > 20).index;
    const passages = await api.get(`/api/books/${bookId}/passages?chapter=${chapter}&limit=500`);
    const first = passages.items.find((p) => [...p.text].length > 20);
    await api.post('/api/annotations', {
      book_id: bookId, passage_id: first.id, start: 0, end: 5, exact: [...first.text].slice(0, 5).join(''), body: 'Small screens too.',
    });
    const page = await newPage(world.browser, world.server, { viewport: { width: 360, height: 740 } });
    await signIn(page, who);
    await openChapter(page, bookId, chapter, `#${first.id}`);
    const margin = page.getByRole('complementary', { name: 'Margin' });
    assert.equal(await margin.count(), 0, 'the drawer starts closed');
    const toggle = page.getByRole('button', { name: /^Margin/ });
    await toggle.click();
    await margin.getByRole('article').filter({ hasText: 'Small screens too.' }).waitFor();
    const box = await margin.boundingBox();
    assert.ok(box.width <= 360, 'the drawer fits the screen');
    await margin.getByRole('button', { name: 'Close margin' }).click();
    await margin.waitFor({ state: 'hidden' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  } finally {
    await world.stop();
  }
});

test('the book’s own links open their chapter in the reader, at their target', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const { id: bookId } = await librarian.upload('internallinks.epub', { access: 'public' });
    const who = await createUser(world.server, 'lena', { displayName: 'Lena' });
    const api = await apiAs(world.server, who);
    const book = await api.get(`/api/books/${bookId}`);
    const from = book.chapters.find((c) => c.href.endsWith('0001.xhtml'));
    const notes = book.chapters.find((c) => c.href.endsWith('xnotes.xhtml'));
    const page = await newPage(world.browser, world.server);
    await signIn(page, who);
    await openChapter(page, bookId, from.index);
    await page.locator(`main a[href*="/chapters/${notes.index}#"]`).first().click();
    await page.waitForURL(new RegExp(`/read/${bookId}/${notes.index}#`));
    await page.locator('main.reader:not([aria-busy]) [data-passage]').first().waitFor();
    const target = decodeURIComponent(new URL(page.url()).hash.slice(1));
    await page.waitForFunction((id) => {
      const el = document.querySelector('.chapter-host').shadowRoot.getElementById(id);
      const r = el?.getBoundingClientRect();
      return r && r.top >= 0 && r.top < innerHeight;
    }, target);
  } finally {
    await world.stop();
  }
});

test('Highlight paints the chosen colour over the text without touching its markup', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const { id: bookId } = await librarian.upload('alice.epub', { access: 'public' });
    const who = await createUser(world.server, 'hana', { displayName: 'Hana' });
    const api = await apiAs(world.server, who);
    const book = await api.get(`/api/books/${bookId}`);
    const chapter = book.chapters.find((c) => c.passages > 20).index;
    const passages = await api.get(`/api/books/${bookId}/passages?chapter=${chapter}&limit=500`);
    const passage = passages.items.find((p) => [...p.text].length > 80);
    const page = await newPage(world.browser, world.server);
    await signIn(page, who);
    await openChapter(page, bookId, chapter);
    const markup = () => page.evaluate((id) => document.querySelector('.chapter-host').shadowRoot
      .querySelector(`[data-passage="${id}"]`).innerHTML, passage.id);
    const before = await markup();
    const selected = await dragSelect(page, passage.id, 5, 40);
    const toolbar = page.getByRole('toolbar', { name: 'Annotate' });
    await toolbar.getByRole('button', { name: 'Green' }).click();
    assert.equal(await toolbar.getByRole('button', { name: 'Green' }).getAttribute('aria-pressed'), 'true');
    await toolbar.getByRole('button', { name: 'Highlight' }).click();
    await page.waitForFunction(() => CSS.highlights.get('scholia-green')?.size === 1);
    const painted = await page.evaluate(() => [...CSS.highlights.get('scholia-green')][0].toString().replace(/\s+/g, ' ').trim());
    assert.equal(painted, selected);
    assert.equal(await markup(), before, 'the book’s markup is as it was');
    const notes = await api.get(`/api/books/${bookId}/annotations?passage=${passage.id}`);
    assert.equal(notes.items.length, 1);
    assert.equal(notes.items[0].motivation, 'highlighting');
    assert.equal(notes.items[0].color, 'green');
    assert.equal(notes.items[0].exact, selected);
  } finally {
    await world.stop();
  }
});
