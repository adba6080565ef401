// Saves the main screens under target/screenshots/ (light, dark and a 360 px phone) so that a
// person can look at them: library, upload, group, and the reader in three variants.

import { test, after, before } from 'node:test';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setup, newPage, signIn, createUser, apiAs, chapterWithPassages, writeNote, ROOT } from './helpers.mjs';

const OUT = path.join(ROOT, 'target/screenshots');
// Not waiting for an idle network: the reader keeps a live-updates stream open.
async function settled(page) {
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  await page.waitForTimeout(400);
}

let env;
before(async () => { env = await setup(); await mkdir(OUT, { recursive: true }); });
after(async () => { await env?.stop(); });

test('screenshots of the main screens', async () => {
  const { server, browser } = env;
  const librarian = await createUser(server, 'lena', { role: 'librarian', displayName: 'Lena (librarian)' });
  const reader = await createUser(server, 'rosa', { displayName: 'Rosa' });
  const friend = await createUser(server, 'theo', { displayName: 'Theo' });
  const lib = await apiAs(server, librarian);
  const books = [];
  for (const f of ['alice.epub', 'moby-dick.epub', 'metamorphosis-epub2.epub', 'regime-anticancer-arabic.epub', 'kusamakura-japanese-vertical-writing.epub', 'childrens-literature.epub']) {
    books.push(await lib.upload(f, { access: 'signed_in' }));
  }
  const rosa = await apiAs(server, reader);
  const group = await rosa.post('/api/groups', { name: 'Tuesday readers', description: 'We read Alice slowly, a chapter a week.', rules: 'Be kind. Quote, do not paraphrase. What is said here stays here.', open: false });
  const { code } = await rosa.post(`/api/groups/${group.id}/invites`, {});
  const theo = await apiAs(server, friend);
  await theo.post('/api/groups/join', { code, accept_rules: true });
  const alice = books[0];
  const { chapter, passages } = await chapterWithPassages(rosa, alice.id, 20);
  await writeNote(rosa, alice.id, passages[2], { body: 'The rabbit is the first clock in the book.', audience: { group: group.id } });
  await writeNote(theo, alice.id, passages[4], { body: 'Falling as a way of *reading*: slowly, then all at once.', audience: { group: group.id } });
  await writeNote(rosa, alice.id, passages[6], { body: 'Private: come back to this.', audience: 'private' });

  const shot = async (page, name) => page.screenshot({ path: path.join(OUT, `${name}.png`) });

  const out = await newPage(browser, server);
  await out.goto('/');
  await out.getByRole('form', { name: 'Sign in' }).waitFor();
  await shot(out, 'signin');
  const invite = await rosa.post(`/api/groups/${group.id}/invites`, {});
  await out.goto(`/join/${invite.code}`);
  await out.getByText('Ground rules').first().waitFor();
  await shot(out, 'join');

  const page = await newPage(browser, server);
  await signIn(page, reader);
  await page.getByRole('link', { name: /Alice/ }).first().waitFor();
  await settled(page);
  await shot(page, 'library');

  await page.goto('/account');
  await page.getByRole('button', { name: 'Save preferences' }).waitFor();
  await shot(page, 'account');

  await page.goto(`/groups/${group.id}`);
  await page.getByRole('region', { name: 'Members' }).getByText('Theo', { exact: true }).waitFor();
  await shot(page, 'group');

  await page.goto(`/read/${alice.id}/${chapter}`);
  await page.locator('main [data-passage]').first().waitFor();
  await settled(page);
  await shot(page, 'reader');

  const dark = await newPage(browser, server, { colorScheme: 'dark' });
  await signIn(dark, reader);
  await dark.goto(`/read/${alice.id}/${chapter}`);
  await dark.locator('main [data-passage]').first().waitFor();
  await settled(dark);
  await shot(dark, 'reader-dark');
  await dark.goto('/');
  await dark.getByRole('link', { name: /Alice/ }).first().waitFor();
  await settled(dark);
  await shot(dark, 'library-dark');

  const narrow = await newPage(browser, server, { viewport: { width: 360, height: 740 } });
  await signIn(narrow, reader);
  await narrow.goto(`/read/${alice.id}/${chapter}`);
  await narrow.locator('main [data-passage]').first().waitFor();
  await settled(narrow);
  await shot(narrow, 'reader-narrow');
  await narrow.goto('/');
  await narrow.getByRole('link', { name: /Alice/ }).first().waitFor();
  await shot(narrow, 'library-narrow');

  const up = await newPage(browser, server);
  await signIn(up, librarian);
  await up.goto('/upload');
  await up.getByLabel('EPUB files').setInputFiles([path.join(ROOT, 'fixtures/epub/wasteland.epub'), path.join(ROOT, 'fixtures/epub/alice.epub')]);
  await up.getByRole('list', { name: 'Uploads' }).getByText('Duplicate', { exact: true }).waitFor();
  await up.getByRole('list', { name: 'Uploads' }).getByText('Imported', { exact: true }).waitFor();
  await shot(up, 'upload');
});
