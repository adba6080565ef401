// Offsets round-trip: text selected with the mouse is stored with the `exact` the selection
// shows (ruby readings left out, whitespace collapsed), on right-to-left Arabic, vertical
// Japanese with ruby, and a passage of emoji and combining marks. The server refuses any
// `exact` that is not its own slice of the passage, so a saved note proves the offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setup, newPage, signIn, createUser, apiAs, FIXTURES } from './helpers.mjs';
import { openChapter, dragSelect } from './reader-fixtures.mjs';
import { writeEmojiEpub, EMOJI_PASSAGE } from './reader-epub.mjs';

const SHARED_JAPANESE = '/work/shared/fixtures/epub/kusamakura-japanese-vertical-writing.epub';
const JAPANESE = process.env.SCHOLIA_JAPANESE_EPUB
  || (existsSync(SHARED_JAPANESE) ? SHARED_JAPANESE : path.join(FIXTURES, 'kusamakura-japanese-vertical-writing.epub'));

async function reader(world, epub) {
  const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
  const book = await librarian.upload(epub, { access: 'public' });
  const who = await createUser(world.server, 'reader', { displayName: 'Rea Der' });
  const page = await newPage(world.browser, world.server);
  await signIn(page, who);
  return { bookId: book.id, api: await apiAs(world.server, who), page };
}

// The first passage (in the first `chapters` chapters) that `pick` accepts in the page.
async function findPassage(page, api, bookId, pick) {
  const book = await api.get(`/api/books/${bookId}`);
  for (const chapter of book.chapters) {
    if (!chapter.passages) continue;
    await openChapter(page, bookId, chapter.index);
    const id = await page.evaluate(pick);
    if (id) return { chapter: chapter.index, id };
  }
  throw new Error('no passage fits');
}

async function noteOnSelection(page, api, bookId, passageId, from, to) {
  const selected = await dragSelect(page, passageId, from, to);
  assert.ok(selected.length > 0, 'something is selected');
  await page.getByRole('toolbar', { name: 'Annotate' }).getByRole('button', { name: 'Add note' }).click();
  await page.getByLabel('Note').fill(`On: ${selected}`);
  await page.getByRole('button', { name: 'Save' }).click();
  // Saved (the note is in the margin), or refused: then the editor says why.
  const card = page.getByRole('complementary', { name: 'Margin' }).getByRole('article').filter({ hasText: `On: ${selected}` }).first();
  const refusal = page.getByRole('dialog').getByRole('alert');
  await card.or(refusal.filter({ hasText: /./ })).waitFor();
  if (await refusal.isVisible()) assert.fail(`the server refused the note: ${await refusal.textContent()}`);
  const notes = await api.get(`/api/books/${bookId}/annotations?passage=${encodeURIComponent(passageId)}`);
  const note = notes.items.find((n) => n.body === `On: ${selected}`);
  assert.ok(note, 'the note was stored');
  assert.equal(note.exact, selected);
  return note;
}

test('offsets round-trip on right-to-left Arabic', async () => {
  const world = await setup();
  try {
    const { bookId, api, page } = await reader(world, 'regime-anticancer-arabic.epub');
    const { id } = await findPassage(page, api, bookId, () => {
      const root = document.querySelector('.chapter-host').shadowRoot;
      const p = [...root.querySelectorAll('[data-passage]')].find((e) => e.textContent.trim().length > 80 && /[\u0600-\u06ff]/.test(e.textContent));
      return p?.dataset.passage ?? null;
    });
    const dir = await page.evaluate((pid) => {
      const p = document.querySelector('.chapter-host').shadowRoot.querySelector(`[data-passage="${pid}"]`);
      return getComputedStyle(p).direction;
    }, id);
    assert.equal(dir, 'rtl', 'the Arabic text is laid out right to left');
    const note = await noteOnSelection(page, api, bookId, id, 6, 40);
    assert.ok(/[\u0600-\u06ff]/.test(note.exact));
  } finally {
    await world.stop();
  }
});

test('offsets round-trip on vertical Japanese with ruby', async () => {
  const world = await setup();
  try {
    const { bookId, api, page } = await reader(world, JAPANESE);
    const { id } = await findPassage(page, api, bookId, () => {
      const root = document.querySelector('.chapter-host').shadowRoot;
      const p = [...root.querySelectorAll('[data-passage]')].find((e) => e.querySelector('ruby rt') && e.textContent.length > 40);
      return p?.dataset.passage ?? null;
    });
    const mode = await page.evaluate((pid) => {
      const p = document.querySelector('.chapter-host').shadowRoot.querySelector(`[data-passage="${pid}"]`);
      return getComputedStyle(p).writingMode;
    }, id);
    assert.equal(mode, 'vertical-rl', 'the book’s vertical writing applies');
    // From the passage's start across its first ruby (its reading is left out of `exact`).
    const note = await noteOnSelection(page, api, bookId, id, 0, 20);
    const passages = await api.get(`/api/books/${bookId}/passages?chapter=${note.chapter}&limit=500`);
    const text = passages.items.find((p) => p.id === id).text;
    assert.ok(text.startsWith(note.exact), `${JSON.stringify(note.exact)} opens ${JSON.stringify(text.slice(0, 40))}`);
  } finally {
    await world.stop();
  }
});

// Uploads the test's own EPUB (emoji, combining marks, ruby) and opens its one chapter.
async function marksBook(world, dir) {
  const file = path.join(dir, 'marks.epub');
  await writeEmojiEpub(file);
  const opened = await reader(world, file);
  const passages = await opened.api.get(`/api/books/${opened.bookId}/passages?chapter=0&limit=50`);
  await openChapter(opened.page, opened.bookId, 0);
  return { ...opened, passages: passages.items };
}

test('offsets round-trip on emoji and combining marks', async () => {
  const world = await setup();
  const dir = await mkdtemp(path.join(tmpdir(), 'scholia-epub-'));
  try {
    const { bookId, api, page, passages } = await marksBook(world, dir);
    const passage = passages.find((p) => p.text === EMOJI_PASSAGE);
    assert.ok(passage, `a passage reads ${EMOJI_PASSAGE}`);
    // UTF-16 offsets: from the 🍵 (4) to past "e\u0301tudes" (index of ","), emoji and marks inside.
    const end = EMOJI_PASSAGE.indexOf(',');
    const note = await noteOnSelection(page, api, bookId, passage.id, 4, end);
    assert.equal(note.exact, EMOJI_PASSAGE.slice(4, end));
    assert.equal(note.start, [...EMOJI_PASSAGE.slice(0, 4)].length);
    assert.equal(note.end, [...EMOJI_PASSAGE.slice(0, end)].length);
  } finally {
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('offsets round-trip across ruby in horizontal text', async () => {
  const world = await setup();
  const dir = await mkdtemp(path.join(tmpdir(), 'scholia-epub-'));
  try {
    const { bookId, api, page, passages } = await marksBook(world, dir);
    // The reading is not part of the text, the spaces collapse.
    const ruby = passages.find((p) => p.text.startsWith('Before'));
    assert.equal(ruby.text, 'Before 漢字 after, with spaces and a nested inline run.');
    const note = await noteOnSelection(page, api, bookId, ruby.id, 0, 15);
    assert.equal(note.exact, 'Before 漢字 after');
  } finally {
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
