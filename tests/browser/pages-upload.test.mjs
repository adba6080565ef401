// A librarian's catalogue: a book's access narrowed to one group hides it from readers outside
// the group; deleting a book takes it out of everyone's library. Readers have no upload page.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setup, newPage, signIn, createUser, apiAs, FIXTURES } from './helpers.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.stop(); });

test('change a book’s access to one group, then delete it', async () => {
  const { server, browser } = env;
  const librarian = await createUser(server, 'lena', { role: 'librarian' });
  const inside = await createUser(server, 'ina', { displayName: 'Ina' });
  const outside = await createUser(server, 'otto', { displayName: 'Otto' });
  const ina = await apiAs(server, inside);
  const group = await ina.post('/api/groups', { name: 'Kafka circle', description: '', rules: '', open: false });
  await ina.post('/api/groups', { name: 'Another group', description: '', rules: '', open: false });

  const page = await newPage(browser, server);
  await signIn(page, librarian);
  await page.goto('/upload');
  await page.getByLabel('EPUB files').setInputFiles(path.join(FIXTURES, 'metamorphosis-epub2.epub'));
  await page.getByRole('list', { name: 'Uploads' }).getByText('Imported', { exact: true }).waitFor();
  const progress = page.getByRole('list', { name: 'Uploads' }).getByRole('progressbar');
  assert.equal(await progress.getAttribute('value'), '1');

  const o = await newPage(browser, server);
  await signIn(o, outside);
  await o.getByRole('link', { name: /Metamorphosis/ }).waitFor();

  await page.getByRole('button', { name: 'Change access of Metamorphosis' }).click();
  await page.getByLabel('Access to Metamorphosis').selectOption('groups');
  await page.getByRole('checkbox', { name: 'Kafka circle' }).check();
  await page.getByRole('button', { name: 'Save access' }).click();
  await page.getByText('Access to Metamorphosis saved').waitFor();
  const row = page.getByRole('row').filter({ hasText: 'Metamorphosis' });
  await row.getByText('Only the groups chosen below').waitFor();

  const book = (await ina.get('/api/books')).items.find((b) => b.title.includes('Metamorphosis'));
  assert.ok(book, 'a member of the group still finds the book');
  const full = await apiAs(server, librarian).then((c) => c.get(`/api/books/${book.id}`));
  assert.deepEqual(full.groups, [group.id]);
  await o.reload();
  await o.getByText('No books are available to you yet').waitFor();

  await page.getByRole('button', { name: 'Delete Metamorphosis' }).click();
  await page.getByRole('button', { name: /Delete “Metamorphosis.*” for good/ }).click();
  await page.getByText(/Metamorphosis.* deleted/).waitFor();
  assert.equal((await ina.get('/api/books')).items.length, 0);
});

test('several EPUBs dropped at once each get their own progress and result', async () => {
  const { server, browser } = env;
  const librarian = await createUser(server, 'dora', { role: 'librarian' });
  const page = await newPage(browser, server);
  await signIn(page, librarian);
  await page.goto('/upload');
  const files = await Promise.all(['wasteland.epub', 'trees.epub'].map(async (name) => ({
    name, bytes: [...await readFile(path.join(FIXTURES, name))],
  })));
  const zone = page.locator('.dropzone');
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: 'application/epub+zip' }));
    return dt;
  }, files);
  await zone.dispatchEvent('dragover', { dataTransfer: transfer });
  await zone.dispatchEvent('drop', { dataTransfer: transfer });
  const uploads = page.getByRole('list', { name: 'Uploads' });
  for (const { name } of files) {
    await uploads.getByRole('listitem').filter({ hasText: name }).getByText('Imported', { exact: true }).waitFor();
  }
  assert.equal(await uploads.getByRole('listitem').count(), 2);
});

test('a reader is told the upload page is for librarians', async () => {
  const { server, browser } = env;
  const reader = await createUser(server, 'rita');
  const page = await newPage(browser, server);
  await signIn(page, reader);
  await page.goto('/upload');
  await page.getByText('Only librarians and administrators add books').waitFor();
  assert.equal(await page.getByLabel('EPUB files').count(), 0);
});
