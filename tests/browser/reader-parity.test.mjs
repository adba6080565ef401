// The reader computes every passage's text exactly as the server stored it: the offsets of a
// note are only right if both walk the same DOM the same way (passage-text rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, createUser, apiAs } from './helpers.mjs';
import { openChapter } from './reader-fixtures.mjs';

const BOOKS = ['alice.epub', 'moby-dick.epub', 'regime-anticancer-arabic.epub', 'epub30-spec.epub',
  'childrens-literature.epub', 'linear-algebra.epub', 'wasteland.epub', 'accessible_epub_3.epub'];
const CHAPTERS_PER_BOOK = 4;

test('the reader’s passage text equals the server’s on the fixtures', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const who = await createUser(world.server, 'paula', { displayName: 'Paula' });
    const page = await newPage(world.browser, world.server);
    await signIn(page, who);
    const mismatches = [];
    let compared = 0;
    for (const epub of BOOKS) {
      const { id } = await librarian.upload(epub, { access: 'public' });
      const book = await librarian.get(`/api/books/${id}`);
      for (const chapter of book.chapters.filter((c) => c.passages > 0).slice(0, CHAPTERS_PER_BOOK)) {
        const server = new Map();
        let cursor = null;
        do {
          const pageOf = await librarian.get(`/api/books/${id}/passages?chapter=${chapter.index}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
          for (const p of pageOf.items) server.set(p.id, p.text);
          cursor = pageOf.next_cursor && encodeURIComponent(pageOf.next_cursor);
        } while (cursor);
        await openChapter(page, id, chapter.index);
        const client = await page.evaluate(async () => {
          const { passageText } = await import('/reader/text.js');
          const root = document.querySelector('.chapter-host').shadowRoot;
          return [...root.querySelectorAll('[data-passage]')].map((p) => [p.dataset.passage, passageText(p).text]);
        });
        for (const [pid, text] of client) {
          compared++;
          if (server.get(pid) !== text) mismatches.push(`${epub} ${pid}: server ${JSON.stringify(server.get(pid))}, reader ${JSON.stringify(text)}`);
        }
        assert.equal(client.length, server.size, `${epub} chapter ${chapter.index}: every passage is in the page`);
      }
    }
    assert.ok(compared > 500, `compared ${compared} passages`);
    assert.deepEqual(mismatches, []);
  } finally {
    await world.stop();
  }
});
