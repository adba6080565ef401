// The report queue and the owner's powers: a member reports a note, the owner sees the report on
// the group page, hides the note from the group and shows it again, names a facilitator, and
// hands the group over before leaving it.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, createUser, apiAs, chapterWithPassages, writeNote } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.stop(); });

test('hide and unhide a reported note; name a facilitator; hand the group over and leave', async () => {
  const { server, browser } = env;
  const lib = await apiAs(server, await createUser(server, 'lena', { role: 'librarian' }));
  const owner = await createUser(server, 'olga', { displayName: 'Olga' });
  const olga = await apiAs(server, owner);
  const ben = await apiAs(server, await createUser(server, 'ben', { displayName: 'Ben' }));
  const cleo = await apiAs(server, await createUser(server, 'cleo', { displayName: 'Cleo' }));
  const group = await olga.post('/api/groups', { name: 'Moby readers', description: '', rules: 'Stay on topic.', open: false });
  const { code } = await olga.post(`/api/groups/${group.id}/invites`, {});
  await ben.post('/api/groups/join', { code, accept_rules: true });
  await cleo.post('/api/groups/join', { code, accept_rules: true });
  const book = await lib.upload('alice.epub', { access: 'signed_in' });
  const { chapter, passages } = await chapterWithPassages(ben, book.id);
  const note = await writeNote(ben, book.id, passages[1], { body: 'An off-topic rant', audience: { group: group.id } });
  await cleo.post(`/api/annotations/${note.id}/reports`, { reason: 'Not about the book' });
  const visibleToCleo = async () => (await cleo.get(`/api/books/${book.id}/annotations?chapter=${chapter}`))
    .items.some((a) => a.id === note.id);
  assert.equal(await visibleToCleo(), true);

  const page = await newPage(browser, server);
  await signIn(page, owner);
  await page.goto(`/groups/${group.id}`);
  const reports = page.getByRole('region', { name: 'Reports' });
  const report = reports.getByRole('article', { name: 'Report by Cleo' });
  await report.getByText('Not about the book').waitFor();
  await report.getByText('An off-topic rant').waitFor();
  await report.getByRole('button', { name: 'Hide note', exact: true }).click();
  await report.getByRole('button', { name: 'Unhide note' }).waitFor();
  assert.equal(await visibleToCleo(), false, 'a hidden note leaves the members’ margins');
  await report.getByRole('button', { name: 'Unhide note' }).click();
  await report.getByRole('button', { name: 'Hide note', exact: true }).waitFor();
  assert.equal(await visibleToCleo(), true);

  // The owner makes a member facilitator from the members list.
  await page.getByRole('button', { name: 'Make Cleo facilitator' }).click();
  await page.getByRole('region', { name: 'Members' }).getByRole('button', { name: 'Make Cleo member' }).waitFor();
  const roles = (await olga.get(`/api/groups/${group.id}/members`)).items;
  assert.equal(roles.find((m) => m.display_name === 'Cleo').role, 'facilitator');

  // The owner hands the group to Cleo, and can then leave it.
  await page.getByRole('button', { name: 'Make Cleo owner' }).click();
  await page.getByRole('button', { name: 'Hand Moby readers to Cleo' }).click();
  await page.getByText('You are a facilitator.').waitFor();
  await page.getByRole('radio', { name: 'Keep' }).check();
  await page.getByRole('button', { name: 'Leave group' }).click();
  await page.getByRole('heading', { level: 1, name: 'Study groups' }).waitFor();
  const left = (await cleo.get(`/api/groups/${group.id}/members`)).items;
  assert.deepEqual(left.map((m) => [m.display_name, m.role]).sort(), [['Ben', 'member'], ['Cleo', 'owner']]);
});
