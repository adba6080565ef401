// Books that say how they are laid out: a fixed-layout (pre-paginated) page is shown whole,
// scaled to fit the reading area on a wide and a phone screen, its passage is annotated with
// the keyboard and ← → turn its pages; a right-to-left book turns to the left, Next chapter
// on the left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setup, newPage, signIn, createUser, apiAs, ROOT } from './helpers.mjs';
import { openChapter, margin } from './reader-fixtures.mjs';

const SHOTS = path.join(ROOT, 'target/screenshots');

// Presses Tab until `predicate` (run in the page) holds, at most `max` times.
async function tabUntil(page, predicate, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate)) return;
  }
  throw new Error(`Tab never reached ${predicate}`);
}

// The page box as drawn (after its scale), the reading area it must fit in (the text column,
// below the sticky bar, above the window's bottom) and the page's own viewport.
function measure(page) {
  return page.evaluate(() => {
    const box = (e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height };
    };
    const column = box(document.querySelector('.reader-page'));
    return {
      page: box(document.querySelector('.chapter-host')),
      area: { left: column.left, right: column.right, top: box(document.querySelector('.reader-bar')).bottom, bottom: innerHeight },
    };
  });
}

function assertFits({ page, area }, viewport, label) {
  const slack = 1;
  assert.ok(page.width < viewport.width, `${label}: the page is scaled down (${page.width} px wide)`);
  assert.ok(page.left >= area.left - slack && page.right <= area.right + slack,
    `${label}: the page (${page.left}..${page.right}) fits the column (${area.left}..${area.right})`);
  assert.ok(page.top >= area.top - slack && page.bottom <= area.bottom + slack,
    `${label}: the page (${page.top}..${page.bottom}) fits below the bar and above the window's bottom (${area.top}..${area.bottom})`);
  const ratio = page.width / page.height;
  const expected = viewport.width / viewport.height;
  assert.ok(Math.abs(ratio - expected) < 0.005, `${label}: the aspect ratio is kept (${ratio} vs ${expected})`);
  const centre = (page.left + page.right) / 2;
  assert.ok(Math.abs(centre - (area.left + area.right) / 2) <= 2, `${label}: the page is centred in its column`);
  // Scaled to fit, not merely shrunk: one of the two dimensions is filled.
  assert.ok(page.width >= area.right - area.left - 2 * slack - 1 || page.bottom >= area.bottom - 80,
    `${label}: the page is as large as the area allows`);
}

test('a fixed-layout page is scaled to fit wide and narrow screens and annotated with the keyboard', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const { id: bookId } = await librarian.upload('sous-le-vent.epub', { access: 'public' });
    const who = await createUser(world.server, 'pia', { displayName: 'Pia Pages' });
    const api = await apiAs(world.server, who);
    const book = await api.get(`/api/books/${bookId}`);
    assert.equal(book.rendition.fixed_layout, true);
    const chapter = book.chapters.find((c) => c.passages > 0 && c.index > 0);
    const viewport = chapter.viewport;
    const { items: [passage] } = await api.get(`/api/books/${bookId}/passages?chapter=${chapter.index}`);

    const page = await newPage(world.browser, world.server, { viewport: { width: 1280, height: 800 } });
    await signIn(page, who);
    await openChapter(page, bookId, chapter.index);
    assertFits(await measure(page), viewport, '1280x800');

    // Text size and line width do not apply, and the Display panel says why.
    await page.locator('summary', { hasText: 'Display' }).click();
    const larger = page.getByRole('button', { name: 'Larger text' });
    assert.equal(await larger.isDisabled(), true, 'no text size on a fixed page');
    assert.equal(await page.getByLabel('Line width').isDisabled(), true, 'no line width on a fixed page');
    assert.match(await larger.getAttribute('aria-describedby'), /fixed-layout-note/);
    assert.match(await page.locator('#fixed-layout-note').textContent(), /fixed layout/);
    await page.locator('summary', { hasText: 'Display' }).click();

    // The neighbouring pages are the chapter controls, Previous on the left.
    const prev = await page.getByRole('link', { name: 'Previous chapter' }).boundingBox();
    const next = await page.getByRole('link', { name: 'Next chapter' }).boundingBox();
    assert.ok(prev.x + prev.width <= next.x, 'a left-to-right book: Previous chapter is left of Next chapter');

    // Keyboard only: the passage on the page, Annotate passage, a note, saved to the margin.
    const focusedPassage = () => document.querySelector('.chapter-host')?.shadowRoot?.activeElement?.dataset?.passage ?? null;
    await tabUntil(page, focusedPassage);
    assert.equal(await page.evaluate(focusedPassage), passage.id);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Annotate passage');
    await page.keyboard.press('Enter');
    await page.getByLabel('Note').waitFor();
    await page.keyboard.type('The title page, whole.');
    await tabUntil(page, () => document.activeElement.textContent === 'Save');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.closest('[aria-label="Margin"] article')
      ?.textContent.includes('The title page, whole.'));
    const notes = await api.get(`/api/books/${bookId}/annotations?passage=${encodeURIComponent(passage.id)}`);
    assert.equal(notes.items.length, 1);
    assert.equal(notes.items[0].exact, passage.text, 'the whole passage is the quote');
    const card = await margin(page).getByRole('article').boundingBox();
    const drawn = (await measure(page)).page;
    assert.ok(card.x >= drawn.right, 'the note sits in the margin beside the page');
    assert.ok(card.y < drawn.bottom, 'the note is level with the page');
    await mkdir(SHOTS, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'reader-fixed-layout.png') });

    // A phone: the page is scaled again when the window changes, and on opening.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.waitForFunction(() => document.querySelector('.chapter-host').getBoundingClientRect().right <= innerWidth);
    assertFits(await measure(page), viewport, 'resized to 360x740');
    const phone = await newPage(world.browser, world.server, { viewport: { width: 360, height: 740 } });
    await signIn(phone, who);
    await openChapter(phone, bookId, chapter.index);
    assertFits(await measure(phone), viewport, '360x740');
    await phone.screenshot({ path: path.join(SHOTS, 'reader-fixed-layout-narrow.png') });

    // → turns to the next page of a left-to-right book, ← back.
    const after = book.chapters[book.chapters.indexOf(chapter) + 1].index;
    await phone.locator('.reader-title').click();
    await phone.keyboard.press('ArrowRight');
    await phone.waitForURL(new RegExp(`/read/${bookId}/${after}$`));
    await phone.locator('main.reader:not([aria-busy]) .chapter-nav').waitFor();
    await phone.keyboard.press('ArrowLeft');
    await phone.waitForURL(new RegExp(`/read/${bookId}/${chapter.index}$`));
  } finally {
    await world.stop();
  }
});

test('a right-to-left book places Next chapter left of Previous chapter, and [ turns to it', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const { id: bookId } = await librarian.upload('regime-anticancer-arabic.epub', { access: 'public' });
    const who = await createUser(world.server, 'rami', { displayName: 'Rami' });
    const api = await apiAs(world.server, who);
    const book = await api.get(`/api/books/${bookId}`);
    assert.equal(book.rendition.page_progression_direction, 'rtl');
    const middle = book.chapters[1].index;

    const page = await newPage(world.browser, world.server, { viewport: { width: 1280, height: 800 } });
    await signIn(page, who);
    await page.goto(`/read/${bookId}/${middle}`);
    await page.locator('main.reader:not([aria-busy]) .chapter-nav').waitFor();
    const nextLink = page.getByRole('link', { name: 'Next chapter', exact: true });
    const prevLink = page.getByRole('link', { name: 'Previous chapter', exact: true });
    await nextLink.scrollIntoViewIfNeeded();
    const next = await nextLink.boundingBox();
    const prev = await prevLink.boundingBox();
    assert.ok(next.x + next.width <= prev.x, `Next chapter (${next.x}) is left of Previous chapter (${prev.x})`);
    assert.equal(await nextLink.getAttribute('href'), `/read/${bookId}/${book.chapters[2].index}`);
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'reader-rtl.png') });

    // `[`, the key on the left, turns to the next chapter, as the book does.
    await page.locator('.reader-title').click();
    await page.keyboard.press('[');
    await page.waitForURL(new RegExp(`/read/${bookId}/${book.chapters[2].index}$`));
    await page.locator('main.reader:not([aria-busy]) .chapter-nav').waitFor();
    await page.keyboard.press(']');
    await page.waitForURL(new RegExp(`/read/${bookId}/${middle}$`));
  } finally {
    await world.stop();
  }
});
