// Shared steps of the reader's browser tests: a library with readers and a study group, a
// real mouse drag over a passage's text, and waiting for the reader to settle.

import { createUser, apiAs } from './helpers.mjs';

// A librarian uploads `epub`; alice (owner) and bob are in "Reading circle", carol is not.
export async function studyGroup(server, epub = 'alice.epub') {
  const librarian = await apiAs(server, await createUser(server, 'lib', { role: 'librarian', displayName: 'The Librarian' }));
  const book = await librarian.upload(epub, { access: 'public' });
  const people = {};
  for (const [name, display] of [['alice', 'Alice Liddell'], ['bob', 'Bob Cratchit'], ['carol', 'Carol Danvers']]) {
    people[name] = await createUser(server, name, { displayName: display });
    people[name].api = await apiAs(server, people[name]);
  }
  const group = await people.alice.api.post('/api/groups', { name: 'Reading circle', description: 'We read slowly.', rules: 'Be kind.', open: false });
  const { code } = await people.alice.api.post(`/api/groups/${group.id}/invites`, {});
  await people.bob.api.post('/api/groups/join', { code, accept_rules: true });
  return { bookId: book.id, group, ...people };
}

// The first chapter with a passage of at least `min` characters, and that passage.
export async function longPassage(api, bookId, min = 120) {
  const book = await api.get(`/api/books/${bookId}`);
  for (const chapter of book.chapters) {
    const passages = await api.get(`/api/books/${bookId}/passages?chapter=${chapter.index}&limit=500`);
    const passage = passages.items.find((p) => [...p.text].length >= min);
    if (passage) return { chapter: chapter.index, passage };
  }
  throw new Error(`no passage of ${min} characters in ${bookId}`);
}

export async function openChapter(page, bookId, chapter, hash = '') {
  await page.goto(`/read/${bookId}/${chapter}${hash}`);
  // The reader marks `main` busy until the text, its margin and its controls are in place.
  await page.locator('main.reader:not([aria-busy]) [data-passage]').first().waitFor();
}

// Drags the mouse from the start of the `from`-th to the end of the `to`-th UTF-16 unit of the
// passage's text nodes (concatenated; ruby readings left out) and returns the selected text as
// the contract defines it, computed here from the selected DOM: without ruby readings, its
// whitespace collapsed.
export async function dragSelect(page, passageId, from, to) {
  const points = await page.evaluate(({ passageId, from, to }) => {
    const host = document.querySelector('.chapter-host');
    const passage = host.shadowRoot.querySelector(`[data-passage="${passageId}"]`);
    passage.scrollIntoView({ block: 'center', inline: 'center' });
    const walker = document.createTreeWalker(passage, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement.closest('rt, rp') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const at = (index, end) => {
      let seen = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (end ? index > seen && index <= seen + node.data.length : index < seen + node.data.length) {
          const offset = index - seen;
          const range = document.createRange();
          // A character, not half of a surrogate pair.
          const high = (k) => /[\ud800-\udbff]/.test(node.data[k] ?? '');
          if (end) {
            range.setStart(node, high(offset - 2) ? offset - 2 : offset - 1);
            range.setEnd(node, offset);
          } else {
            range.setStart(node, offset);
            range.setEnd(node, offset + (high(offset) ? 2 : 1));
          }
          const rects = [...range.getClientRects()].filter((r) => r.width > 0 || r.height > 0);
          const r = (end ? rects[rects.length - 1] : rects[0]) ?? range.getBoundingClientRect();
          walker.currentNode = passage;
          const style = getComputedStyle(node.parentElement);
          if (style.writingMode.startsWith('vertical')) {
            return { x: r.left + r.width / 2, y: end ? r.bottom - 0.5 : r.top + 0.5 };
          }
          const rtl = style.direction === 'rtl';
          return { x: end !== rtl ? r.right - 0.5 : r.left + 0.5, y: r.top + r.height / 2 };
        }
        seen += node.data.length;
      }
      throw new Error(`offset ${index} is past the passage's text`);
    };
    return { start: at(from, false), end: at(to, true) };
  }, { passageId, from, to });
  await page.mouse.move(points.start.x, points.start.y);
  await page.mouse.down();
  await page.mouse.move((points.start.x + points.end.x) / 2, (points.start.y + points.end.y) / 2, { steps: 5 });
  await page.mouse.move(points.end.x, points.end.y, { steps: 5 });
  await page.mouse.up();
  return selectedText(page);
}

export function selectedText(page) {
  return page.evaluate(() => {
    const root = document.querySelector('.chapter-host').shadowRoot;
    const [r] = document.getSelection().getComposedRanges({ shadowRoots: [root] });
    const range = document.createRange();
    range.setStart(r.startContainer, r.startOffset);
    range.setEnd(r.endContainer, r.endOffset);
    const copy = range.cloneContents();
    for (const reading of copy.querySelectorAll('rt, rp')) reading.remove();
    return copy.textContent.replace(/[ \t\n\f\r]+/g, ' ').trim();
  });
}

export function margin(page) {
  return page.getByRole('complementary', { name: 'Margin' });
}
