// The margin between readers: a note chosen for a group reaches that group's members beside
// its passage, obeys each reader's `Show marginalia`, and never shows a private note or
// anything to an outsider. Then threads, muting, and `My reading first`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, settled } from './helpers.mjs';
import { studyGroup, longPassage, openChapter, dragSelect, margin } from './reader-fixtures.mjs';

async function twoReaders(database) {
  const world = await setup({ database });
  const people = await studyGroup(world.server);
  const { chapter, passage } = await longPassage(people.alice.api, people.bookId);
  return { world, people, chapter, passage };
}

for (const database of ['sqlite', 'postgres']) {
  test(`a group note selected with the mouse reaches the group, not outsiders (${database})`, async () => {
    const { world, people, chapter, passage } = await twoReaders(database);
    try {
      const { bookId } = people;
      const secret = await people.alice.api.post('/api/annotations', {
        book_id: bookId, passage_id: passage.id, start: 0, end: 5, exact: [...passage.text].slice(0, 5).join(''),
        body: 'A private thought of Alice', audience: 'private',
      });
      assert.equal(secret.audience, 'private');

      const alice = await newPage(world.browser, world.server);
      await signIn(alice, people.alice);
      await openChapter(alice, bookId, chapter);
      const selected = await dragSelect(alice, passage.id, 10, 60);
      const toolbar = alice.getByRole('toolbar', { name: 'Annotate' });
      await toolbar.waitFor();
      await toolbar.getByRole('button', { name: 'Add note' }).click();
      await alice.getByLabel('Note').fill('Notice how the sentence turns here.');
      await alice.getByLabel('Audience').selectOption({ label: 'Reading circle' });
      await alice.getByRole('button', { name: 'Save' }).click();
      await margin(alice).getByRole('article').filter({ hasText: 'Notice how the sentence turns here.' }).waitFor();

      const mine = await people.alice.api.get(`/api/books/${bookId}/annotations?passage=${passage.id}&margin=none`);
      const note = mine.items.find((n) => n.body === 'Notice how the sentence turns here.');
      assert.ok(note, 'the note was stored');
      assert.deepEqual(note.audience, { group: people.group.id });
      assert.equal(note.exact, selected.replace(/\s+/g, ' ').trim());

      const bob = await newPage(world.browser, world.server);
      await signIn(bob, people.bob);
      await openChapter(bob, bookId, chapter);
      const bobMargin = margin(bob);
      await bobMargin.getByRole('radio', { name: 'My groups' }).check();
      const card = bobMargin.getByRole('article').filter({ hasText: 'Notice how the sentence turns here.' });
      await card.waitFor();
      await assert.doesNotReject(card.getByText('Alice Liddell').waitFor());
      // Beside its passage: the card's top is level with the passage (or pushed just below).
      const [cardBox, passageBox] = await Promise.all([card.boundingBox(),
        bob.locator(`main [data-passage="${passage.id}"]`).boundingBox()]);
      assert.ok(Math.abs(cardBox.y - passageBox.y) < 40, `card at ${cardBox.y}, passage at ${passageBox.y}`);
      assert.equal(await bobMargin.getByText('A private thought of Alice').count(), 0);

      await bobMargin.getByRole('radio', { name: 'None' }).check();
      await card.waitFor({ state: 'detached' });
      await bobMargin.getByRole('radio', { name: 'Everyone' }).check();
      await card.waitFor();
      assert.equal(await bobMargin.getByText('A private thought of Alice').count(), 0);

      const carol = await newPage(world.browser, world.server);
      await signIn(carol, people.carol);
      await openChapter(carol, bookId, chapter);
      await margin(carol).getByRole('radio', { name: 'Everyone' }).check();
      await carol.waitForLoadState('networkidle');
      assert.equal(await margin(carol).getByRole('article').count(), 0);
    } finally {
      await world.stop();
    }
  });
}

test('a reply thread, and muting and unmuting a reader', async () => {
  const { world, people, chapter, passage } = await twoReaders('sqlite');
  try {
    const { bookId } = people;
    const exact = [...passage.text].slice(0, 12).join('');
    await people.alice.api.post('/api/annotations', {
      book_id: bookId, passage_id: passage.id, start: 0, end: 12, exact,
      body: 'Who is speaking here?', audience: { group: people.group.id },
    });
    const bob = await newPage(world.browser, world.server);
    await signIn(bob, people.bob);
    await openChapter(bob, bookId, chapter);
    const card = margin(bob).getByRole('article').filter({ hasText: 'Who is speaking here?' }).first();
    await card.getByRole('button', { name: 'Reply' }).click();
    await bob.getByLabel('Note').fill('The narrator, I think.');
    await bob.getByRole('button', { name: 'Save' }).click();
    await card.getByRole('article').filter({ hasText: 'The narrator, I think.' }).waitFor();
    // Reporting asks for a reason; a facilitator of the group finds it in their queue, and
    // Alice, whose note it is, never sees it, though she owns the group.
    const { code } = await people.alice.api.post(`/api/groups/${people.group.id}/invites`, {});
    await people.carol.api.post('/api/groups/join', { code, accept_rules: true });
    await people.alice.api.patch(`/api/groups/${people.group.id}/members/${people.carol.api.user.id}`, { role: 'facilitator' });
    await card.getByRole('button', { name: 'Report' }).first().click();
    const report = bob.getByRole('dialog', { name: /^Report/ });
    await report.getByLabel('Reason').fill('Spoils the ending.');
    await report.getByRole('button', { name: 'Report' }).click();
    await report.waitFor({ state: 'detached' });
    const queue = await people.carol.api.get('/api/reports');
    assert.equal(queue.items.length, 1);
    assert.equal(queue.items[0].reason, 'Spoils the ending.');
    assert.equal(queue.items[0].annotation.body, 'Who is speaking here?');
    assert.deepEqual((await people.alice.api.get('/api/reports')).items, []);

    const alice = await newPage(world.browser, world.server);
    await signIn(alice, people.alice);
    await openChapter(alice, bookId, chapter);
    const thread = margin(alice).getByRole('article').filter({ hasText: 'Who is speaking here?' }).first();
    const reply = thread.getByRole('article').filter({ hasText: 'The narrator, I think.' });
    await reply.getByText('Bob Cratchit').waitFor();

    await reply.getByRole('button', { name: 'Mute Bob Cratchit' }).click();
    await reply.waitFor({ state: 'detached' });
    const mutes = await people.alice.api.get('/api/me/mutes');
    assert.equal((mutes.items ?? mutes).length, 1);
    await margin(alice).getByRole('button', { name: 'Unmute Bob Cratchit' }).click();
    await margin(alice).getByRole('article').filter({ hasText: 'The narrator, I think.' })
      .filter({ hasNotText: 'Who is speaking here?' }).waitFor();
  } finally {
    await world.stop();
  }
});

test('My reading first: others’ notes wait until I write there or reveal them', async () => {
  const { world, people, chapter, passage } = await twoReaders('sqlite');
  try {
    const { bookId } = people;
    const chars = [...passage.text];
    await people.alice.api.post('/api/annotations', {
      book_id: bookId, passage_id: passage.id, start: 0, end: 8, exact: chars.slice(0, 8).join(''),
      body: 'Alice was here first.', audience: { group: people.group.id },
    });
    const bob = await newPage(world.browser, world.server);
    await signIn(bob, people.bob);
    await openChapter(bob, bookId, chapter);
    const bobMargin = margin(bob);
    await bobMargin.getByRole('checkbox', { name: 'My reading first' }).check();
    const alicesNote = bobMargin.getByRole('article').filter({ hasText: 'Alice was here first.' });
    await alicesNote.waitFor({ state: 'detached' });

    // The passage, once reached, offers to reveal what waits.
    await bob.locator(`main [data-passage="${passage.id}"]`).click();
    await bobMargin.getByRole('button', { name: 'Reveal notes' }).click();
    await alicesNote.waitFor();

    // On another passage, writing one's own note brings the others' in.
    const passages = await people.bob.api.get(`/api/books/${bookId}/passages?chapter=${chapter}&limit=500`);
    const other = passages.items.find((p) => p.id !== passage.id && [...p.text].length > 30);
    const otherChars = [...other.text];
    await people.alice.api.post('/api/annotations', {
      book_id: bookId, passage_id: other.id, start: 0, end: 6, exact: otherChars.slice(0, 6).join(''),
      body: 'A second thought by Alice.', audience: { group: people.group.id },
    });
    await openChapter(bob, bookId, chapter);
    const second = bobMargin.getByRole('article').filter({ hasText: 'A second thought by Alice.' });
    await bob.waitForLoadState('networkidle');
    assert.equal(await second.count(), 0);
    await dragSelect(bob, other.id, 0, 10);
    await bob.getByRole('toolbar', { name: 'Annotate' }).getByRole('button', { name: 'Add note' }).click();
    await bob.getByLabel('Note').fill('My own reading.');
    await bob.getByRole('button', { name: 'Save' }).click();
    await bobMargin.getByRole('article').filter({ hasText: 'My own reading.' }).waitFor();
    await second.waitFor();
  } finally {
    await world.stop();
  }
});

test('edit, delete to a tombstone, a hidden note, and the folded margin’s counts', async () => {
  const { world, people, chapter, passage } = await twoReaders('sqlite');
  try {
    const { bookId } = people;
    const exact = [...passage.text].slice(0, 10).join('');
    const note = await people.alice.api.post('/api/annotations', {
      book_id: bookId, passage_id: passage.id, start: 0, end: 10, exact,
      body: 'First draft of a thought.', audience: { group: people.group.id },
    });
    await people.bob.api.post('/api/annotations', {
      book_id: bookId, reply_to: note.id, body: 'An answer that stays.', audience: { group: people.group.id },
    });
    const alice = await newPage(world.browser, world.server);
    await signIn(alice, people.alice);
    await openChapter(alice, bookId, chapter);
    const aliceMargin = margin(alice);
    const card = aliceMargin.getByRole('article').filter({ hasText: 'First draft of a thought.' }).first();
    await card.getByRole('button', { name: 'Edit' }).first().click();
    await alice.getByLabel('Note').fill('Second draft, *better*.');
    await alice.getByRole('button', { name: 'Save' }).click();
    const edited = aliceMargin.getByRole('article').filter({ hasText: 'Second draft, better.' }).first();
    await edited.locator('em', { hasText: 'better' }).waitFor();

    await aliceMargin.getByRole('button', { name: 'Fold margin' }).click();
    await aliceMargin.getByRole('button', { name: '2 notes' }).waitFor();
    await aliceMargin.getByRole('button', { name: '2 notes' }).click();

    await edited.getByRole('button', { name: 'Delete' }).first().click();
    await alice.getByRole('dialog', { name: 'Delete this note?' }).getByRole('button', { name: 'Delete' }).click();
    const tombstone = aliceMargin.getByRole('article').filter({ hasText: 'This note was deleted' });
    await tombstone.waitFor();
    await tombstone.getByText('An answer that stays.').waitFor();
    assert.equal(await aliceMargin.getByText('Second draft').count(), 0);

    // A moderator hides Bob's note: Bob still sees it, marked.
    const other = await people.bob.api.post('/api/annotations', {
      book_id: bookId, passage_id: passage.id, start: 0, end: 10, exact,
      body: 'Something off topic.', audience: { group: people.group.id },
    });
    await people.alice.api.post(`/api/annotations/${other.id}/hide`, { hidden: true });
    const bob = await newPage(world.browser, world.server);
    await signIn(bob, people.bob);
    await openChapter(bob, bookId, chapter);
    const hidden = margin(bob).getByRole('article').filter({ hasText: 'Something off topic.' });
    await hidden.getByText('Hidden by a moderator').waitFor();
  } finally {
    await world.stop();
  }
});

test('For all books: off, the choice is this book’s override; on again, the account’s default', async () => {
  const { world, people, chapter } = await twoReaders('sqlite');
  try {
    const bob = await newPage(world.browser, world.server);
    await signIn(bob, people.bob);
    await openChapter(bob, people.bookId, chapter);
    const bobMargin = margin(bob);
    const forAll = bobMargin.getByRole('checkbox', { name: 'For all books' });
    assert.equal(await forAll.isChecked(), true, 'no override at first');
    await forAll.uncheck();
    await bobMargin.getByRole('radio', { name: 'None' }).check();
    // The choice is saved in the background: read until the save has landed (or time is up).
    let preferences = await settled(() => people.bob.api.get('/api/me/preferences'),
      (p) => p.books[people.bookId]?.margin === 'none');
    assert.equal(preferences.margin, 'groups', 'the account keeps its default');
    assert.equal(preferences.books[people.bookId].margin, 'none');

    await forAll.check();
    await bobMargin.getByRole('radio', { name: 'Everyone' }).check();
    preferences = await settled(() => people.bob.api.get('/api/me/preferences'),
      (p) => p.margin === 'everyone');
    assert.equal(preferences.books[people.bookId], undefined, 'the override is gone');
    assert.equal(preferences.margin, 'everyone');
  } finally {
    await world.stop();
  }
});
