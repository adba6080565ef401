// First run as a new administrator would do it: the setup link from the server's log creates
// the admin, who makes a newly registered reader a librarian; the librarian uploads two
// EPUBs through /upload and sees one imported and one refused with its reason.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setup, newPage, FIXTURES } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.stop(); });

test('setup link, admin grants librarian, librarian uploads one good and one broken EPUB', async () => {
  const { server, browser } = env;
  const [, token] = await server.waitForOutput(/\/setup\/([A-Za-z0-9_-]+)/);

  const admin = await newPage(browser, server);
  await admin.goto(`/setup/${token}`);
  await admin.getByLabel('Username').fill('ada');
  await admin.getByLabel('Display name').fill('Ada L.');
  await admin.getByLabel('Password').fill('correct horse battery');
  await admin.getByRole('button', { name: 'Create administrator' }).click();
  await admin.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.match(await admin.locator('.app-nav').innerText(), /Ada L\./);

  // The link works once.
  const again = await newPage(browser, server);
  await again.goto(`/setup/${token}`);
  await again.getByText('This setup link cannot be used').waitFor();

  const lib = await newPage(browser, server);
  await lib.goto('/');
  const signUp = lib.getByRole('form', { name: 'Create an account' });
  await signUp.getByLabel('Username').fill('libby');
  await signUp.getByLabel('Display name').fill('Libby');
  await signUp.getByLabel('Password').fill('libby-password-123');
  await signUp.getByRole('button', { name: 'Create account' }).click();
  await lib.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.equal(await lib.getByRole('link', { name: 'Upload' }).count(), 0, 'a reader has no upload page');

  await admin.goto('/account');
  const role = admin.getByLabel('Role of Libby');
  await role.selectOption('librarian');
  await admin.getByText('Libby is now librarian').waitFor();

  await lib.reload();
  await lib.getByRole('link', { name: 'Upload' }).click();
  await lib.getByRole('heading', { name: 'Upload books' }).waitFor();
  await lib.getByLabel('Access for new books').selectOption('signed_in');
  const broken = path.join(server.dataDir, 'x.epub');
  await writeFile(broken, randomBytes(4096));
  await lib.getByLabel('EPUB files').setInputFiles([path.join(FIXTURES, 'alice.epub'), broken]);

  const uploads = lib.getByRole('list', { name: 'Uploads' });
  const good = uploads.getByRole('listitem').filter({ hasText: 'alice.epub' });
  const bad = uploads.getByRole('listitem').filter({ hasText: 'x.epub' });
  await good.getByText('Imported', { exact: true }).waitFor();
  await bad.getByText('Refused', { exact: true }).waitFor();
  assert.match(await bad.locator('.reason').innerText(), /refused: .{8,}/i, 'the server’s reason is shown');
  await lib.getByRole('table').getByRole('link', { name: /Alice/ }).waitFor();

  // A reader finds it in the library.
  await lib.goto('/');
  await lib.getByRole('link', { name: /Alice/ }).first().waitFor();
});
