// The library as a reader sees it: every book as a link with cover, author and language; a
// search by title or author that survives a reload; "continue reading" where one left off.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, createUser, apiAs, chapterWithPassages } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.stop(); });

test('books, search and continue reading', async () => {
  const { server, browser } = env;
  const lib = await apiAs(server, await createUser(server, 'lena', { role: 'librarian' }));
  const alice = await lib.upload('alice.epub', { access: 'signed_in' });
  await lib.upload('moby-dick.epub', { access: 'public' });
  await lib.upload('regime-anticancer-arabic.epub', { access: 'signed_in' });
  const user = await createUser(server, 'rosa');

  const page = await newPage(browser, server);
  await signIn(page, user);
  const books = page.getByRole('list', { name: 'Books' });
  await books.getByRole('link', { name: /Moby-Dick/ }).waitFor();
  assert.equal(await books.getByRole('link').count(), 3);
  const mobyLink = books.getByRole('link', { name: /Moby-Dick/ });
  assert.match(await mobyLink.innerText(), /Herman Melville/);
  assert.match(await mobyLink.locator('img').getAttribute('src'), /^\/api\/books\/[^/]+\/resources\//);
  assert.equal(await mobyLink.locator('img').evaluate((img) => img.naturalWidth > 0), true, 'the cover loads');
  await books.getByText('Arabic').waitFor();
  assert.equal(await page.getByRole('region', { name: 'Continue reading' }).count(), 0);

  await page.getByRole('searchbox', { name: 'Search the library' }).fill('melville');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/\?q=melville$/);
  await page.getByRole('status').filter({ hasText: '1 book matches “melville”' }).waitFor();
  assert.deepEqual(await books.getByRole('link').evaluateAll((ls) => ls.map((l) => l.querySelector('.book-title').textContent)), ['Moby-Dick']);
  await page.reload();
  await books.getByRole('link', { name: /Moby-Dick/ }).waitFor();
  assert.equal(await books.getByRole('link').count(), 1);
  await page.getByRole('searchbox', { name: 'Search the library' }).fill('no such book');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No book matches “no such book”.').waitFor();

  const rosa = await apiAs(server, user);
  const { chapter, passages } = await chapterWithPassages(rosa, alice.id, 10);
  await rosa.put(`/api/me/progress/${alice.id}`, { chapter, passage: passages[5].id });
  await page.goto('/');
  const cont = page.getByRole('region', { name: 'Continue reading' });
  await cont.getByRole('link', { name: /Alice/ }).click();
  await page.waitForURL(new RegExp(`/read/${alice.id}/${chapter}#${passages[5].id}$`));

  // In the reader, ? lists the reader's shortcuts after the shell's.
  await page.locator('main [data-passage]').first().waitFor();
  await page.keyboard.press('Shift+Slash');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.getByText('Show this list of shortcuts').waitFor();
  await help.getByText(/annotate the whole passage/i).waitFor();
  await help.getByRole('button', { name: 'Close' }).click();
  await help.waitFor({ state: 'hidden' });
});
