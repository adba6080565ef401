// Study groups as people use them: an owner starts a group and copies an invitation link; a
// reader opens it signed out, signs in there, reads the rules and joins only after accepting
// them; leaving with "Withdraw" takes the reader's notes out of the others' margins; the owner
// edits the rules that the next invitation shows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, createUser, apiAs, chapterWithPassages, writeNote } from './helpers.mjs';

for (const database of ['sqlite', 'postgres']) {
  test(`create a group, invite, join with consent, leave withdrawing notes (${database})`, async (t) => {
    const env = await setup({ database });
    t.after(() => env.stop());
    await scenario(env);
  });
}

async function scenario({ server, browser }) {
  const librarian = await createUser(server, 'lena', { role: 'librarian' });
  const owner = await createUser(server, 'olga', { displayName: 'Olga' });
  const member = await createUser(server, 'ben', { displayName: 'Ben' });

  const o = await newPage(browser, server);
  await signIn(o, owner);
  await o.getByRole('link', { name: 'Groups' }).click();
  const create = o.getByRole('form', { name: 'Start a group' });
  await create.getByLabel('Name').fill('Tuesday readers');
  await create.getByLabel('Description').fill('We read Alice slowly.');
  await create.getByLabel('Ground rules').fill('Be kind. Quote, do not paraphrase.');
  await create.getByRole('button', { name: 'Create group' }).click();
  await o.getByRole('heading', { level: 1, name: 'Tuesday readers' }).waitFor();
  const groupId = new URL(o.url()).pathname.split('/').pop();

  await o.getByRole('button', { name: 'Create invitation link' }).click();
  const link = await o.getByLabel('Invitation link').first().inputValue();
  assert.match(link, new RegExp(`^${server.url}/join/`));

  const b = await newPage(browser, server);
  await b.goto(link);
  await b.getByRole('heading', { name: 'Join Tuesday readers' }).waitFor();
  await b.getByText('Be kind. Quote, do not paraphrase.').waitFor();
  await b.getByText(/can be read by its 1 member/).waitFor();
  const form = b.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Username').fill(member.username);
  await form.getByLabel('Password').fill(member.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  const accept = b.getByLabel('I accept the ground rules');
  await accept.waitFor();
  // Without consent the form does not go.
  await b.getByRole('button', { name: 'Join group' }).click();
  assert.equal(new URL(b.url()).pathname, new URL(link).pathname);
  await accept.check();
  await b.getByRole('button', { name: 'Join group' }).click();
  await b.getByRole('heading', { level: 1, name: 'Tuesday readers' }).waitFor();
  const members = b.getByRole('region', { name: 'Members' });
  await members.getByText('Olga').waitFor();
  await members.getByText('Ben').waitFor();

  // Ben writes a note for the group; Olga sees it in her margin.
  const lib = await apiAs(server, librarian);
  const book = await lib.upload('alice.epub', { access: 'signed_in' });
  const ben = await apiAs(server, member);
  const { chapter, passages } = await chapterWithPassages(ben, book.id);
  await writeNote(ben, book.id, passages[1], { body: 'Ben’s group note', audience: { group: groupId } });
  const olga = await apiAs(server, owner);
  await writeNote(olga, book.id, passages[2], { body: 'Olga’s own note', audience: { group: groupId } });
  await o.goto(`/read/${book.id}/${chapter}`);
  const margin = o.getByRole('complementary', { name: 'Margin' });
  await margin.getByRole('article').filter({ hasText: 'Ben’s group note' }).waitFor();
  await margin.getByRole('article').filter({ hasText: 'Olga’s own note' }).waitFor();

  // Ben leaves, withdrawing his notes: the plain words say what each choice does.
  await b.getByRole('radio', { name: 'Keep' }).waitFor();
  await b.getByRole('radio', { name: 'Anonymize' }).waitFor();
  await b.getByText('Your notes leave the group and become private').waitFor();
  await b.getByRole('radio', { name: 'Withdraw' }).check();
  await b.getByRole('button', { name: 'Leave group' }).click();
  await b.getByRole('heading', { level: 1, name: 'Study groups' }).waitFor();
  await b.getByText('You are in no group yet').waitFor();

  await o.reload();
  await margin.getByRole('article').filter({ hasText: 'Olga’s own note' }).waitFor();
  assert.equal(await margin.getByRole('article').filter({ hasText: 'Ben’s group note' }).count(), 0,
    'a withdrawn note leaves the others’ margins');
  const mine = await ben.get(`/api/books/${book.id}/annotations?chapter=${chapter}`);
  assert.equal(mine.items.length, 1, 'Ben keeps his note');
  assert.equal(mine.items[0].audience, 'private');
}

test('the owner edits the ground rules; the invitation shows the new ones', async (t) => {
  const env = await setup();
  t.after(() => env.stop());
  const { server, browser } = env;
  const owner = await createUser(server, 'olga', { displayName: 'Olga' });
  const olga = await apiAs(server, owner);
  const group = await olga.post('/api/groups', { name: 'Night owls', description: 'Late reading.', rules: 'Old rules.', open: false });
  const { code } = await olga.post(`/api/groups/${group.id}/invites`, {});
  const page = await newPage(browser, server);
  await signIn(page, owner);
  await page.goto(`/groups/${group.id}`);
  await page.getByRole('button', { name: 'Edit group' }).click();
  await page.getByLabel('Ground rules').fill('New rules: no spoilers.');
  await page.getByLabel('Open: any signed-in reader may join').check();
  await page.getByRole('button', { name: 'Save group' }).click();
  await page.getByText('New rules: no spoilers.').waitFor();
  await page.getByText('Open: any signed-in reader may join.').waitFor();
  const saved = await olga.get(`/api/groups/${group.id}`);
  assert.equal(saved.rules, 'New rules: no spoilers.');
  assert.equal(saved.open, true);

  const visitor = await newPage(browser, server);
  await visitor.goto(`/join/${code}`);
  await visitor.getByText('New rules: no spoilers.').waitFor();
});

test('a member is told the rules changed since they joined, until they dismiss it', async (t) => {
  const env = await setup();
  t.after(() => env.stop());
  const { server, browser } = env;
  const owner = await createUser(server, 'olga', { displayName: 'Olga' });
  const member = await createUser(server, 'ben', { displayName: 'Ben' });
  const olga = await apiAs(server, owner);
  const ben = await apiAs(server, member);
  const group = await olga.post('/api/groups', { name: 'Night owls', description: '', rules: 'Old rules.', open: false });
  const { code } = await olga.post(`/api/groups/${group.id}/invites`, {});
  await ben.post('/api/groups/join', { code, accept_rules: true });

  const o = await newPage(browser, server);
  await signIn(o, owner);
  await o.goto(`/groups/${group.id}`);
  await o.getByRole('button', { name: 'Edit group' }).click();
  await o.getByLabel('Ground rules').fill('New rules: no spoilers.');
  await o.getByRole('button', { name: 'Save group' }).click();
  await o.getByText('Group saved').waitFor();
  // The owner made the change: nothing to tell her.
  await o.reload();
  await o.getByRole('heading', { level: 1, name: 'Night owls' }).waitFor();
  assert.equal(await o.getByRole('region', { name: 'Changes since you joined' }).count(), 0);

  const [notice] = (await ben.get(`/api/groups/${group.id}`)).notices;
  assert.equal(notice.kind, 'rules');
  const b = await newPage(browser, server);
  await signIn(b, member);
  await b.goto(`/groups/${group.id}`);
  const changes = b.getByRole('region', { name: 'Changes since you joined' });
  const shown = changes.getByRole('article', { name: /^Ground rules changed/ });
  await shown.getByText(notice.message).waitFor();
  await shown.getByText('New rules: no spoilers.').waitFor();
  assert.equal(await shown.locator('time').getAttribute('datetime'), notice.created);
  assert.equal(await shown.locator('time').innerText(), await b.evaluate((iso) => new Date(iso)
    .toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }), notice.created));

  await shown.getByRole('button', { name: 'Dismiss' }).click();
  await b.locator('#status').filter({ hasText: 'Notice dismissed' }).waitFor();
  await changes.waitFor({ state: 'detached' });
  assert.equal(await b.evaluate(() => document.activeElement.localName), 'h1');
  assert.deepEqual((await ben.get(`/api/groups/${group.id}`)).notices, []);
  await b.reload();
  await b.getByRole('heading', { level: 1, name: 'Night owls' }).waitFor();
  await b.getByText('New rules: no spoilers.').waitFor();
  assert.equal(await changes.count(), 0);
});
