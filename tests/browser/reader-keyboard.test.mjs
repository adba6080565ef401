// Keyboard only: reach a passage with Tab, move between passages with the arrow keys, open
// `Annotate passage`, write and save a note, and land on it in the margin; never the mouse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, createUser, apiAs } from './helpers.mjs';
import { longPassage } from './reader-fixtures.mjs';

// Presses Tab until `predicate` (run in the page) holds, at most `max` times.
async function tabUntil(page, predicate, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate)) return;
  }
  throw new Error(`Tab never reached ${predicate}`);
}

test('keyboard only: annotate a whole passage and reach the note in the margin', async () => {
  const world = await setup();
  try {
    const librarian = await apiAs(world.server, await createUser(world.server, 'lib', { role: 'librarian' }));
    const book = await librarian.upload('alice.epub', { access: 'public' });
    const who = await createUser(world.server, 'kim', { displayName: 'Kim Keys' });
    const api = await apiAs(world.server, who);
    const { chapter } = await longPassage(api, book.id);
    const page = await newPage(world.browser, world.server);

    await page.goto('/');
    const form = page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('Username').focus();
    await page.keyboard.type(who.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(who.password);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.goto(`/read/${book.id}/${chapter}`);
    await page.locator('main.reader:not([aria-busy]) [data-passage]').first().waitFor();

    const focusedPassage = () => document.querySelector('.chapter-host')?.shadowRoot?.activeElement?.dataset?.passage ?? null;
    await tabUntil(page, focusedPassage);
    const first = await page.evaluate(focusedPassage);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const third = await page.evaluate(focusedPassage);
    assert.notEqual(third, first, 'the arrow keys move between passages');

    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.textContent);
    assert.equal(focused, 'Annotate passage');
    await page.keyboard.press('Enter');
    await page.getByLabel('Note').waitFor();
    await page.keyboard.type('Read with the keyboard alone.');
    await tabUntil(page, () => document.activeElement.textContent === 'Save');
    await page.keyboard.press('Enter');

    await page.waitForFunction(() => document.activeElement?.closest('[aria-label="Margin"] article')
      ?.textContent.includes('Read with the keyboard alone.'));
    const notes = await api.get(`/api/books/${book.id}/annotations?passage=${encodeURIComponent(third)}`);
    const passages = await api.get(`/api/books/${book.id}/passages?chapter=${chapter}&limit=500`);
    const text = passages.items.find((p) => p.id === third).text;
    assert.equal(notes.items.length, 1);
    assert.equal(notes.items[0].exact, text, 'the whole passage is the quote');
    assert.equal(notes.items[0].audience, 'private', 'private by default');

    // From the note, its actions are the next stops.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Reply');

    // One sentence of a passage, still without a mouse: the URL names the passage, `a` opens
    // the editor, and its `Quote` list offers the sentences.
    const long = passages.items.find((p) => p.id !== third && /[.!?]["”’]? +[A-Z"“]/.test(p.text) && p.text.length > 80);
    await page.goto(`/read/${book.id}/${chapter}#${long.id}`);
    await page.locator('main.reader:not([aria-busy]) [data-passage]').first().waitFor();
    // The passage the URL names gets the focus.
    await page.waitForFunction(`(${focusedPassage})() === ${JSON.stringify(long.id)}`);
    await page.keyboard.press('a');
    await page.getByLabel('Note').waitFor();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'note-part');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Just this sentence.');
    await tabUntil(page, () => document.activeElement.textContent === 'Save');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.closest('[aria-label="Margin"] article')
      ?.textContent.includes('Just this sentence.'));
    const sentence = (await api.get(`/api/books/${book.id}/annotations?passage=${encodeURIComponent(long.id)}`)).items[0];
    assert.equal(sentence.start, 0);
    assert.ok(sentence.end < [...long.text].length, 'less than the whole passage');
    assert.ok(long.text.startsWith(sentence.exact) && /[.!?]["”’]?$/.test(sentence.exact), sentence.exact);
  } finally {
    await world.stop();
  }
});
