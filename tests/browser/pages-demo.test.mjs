// `scholia serve --demo` as a newcomer tries it: sign in with a printed login, open Alice from
// the library, and see the demo's notes beside their passages.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, apiAs } from './helpers.mjs';

let server;
let browser;
before(async () => {
  server = await startServer({ args: ['--demo'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the demo’s printed login opens a library with notes in its margins', async () => {
  const [, username, password] = await server.waitForOutput(/^ {2}(\S+) \/ (\S+) {2}\(/m);
  const page = await newPage(browser, server);
  await signIn(page, { username, password });
  const books = page.getByRole('list', { name: 'Books' });
  await books.getByRole('link', { name: /Alice/ }).click();
  await page.locator('main.reader:not([aria-busy])').waitFor();
  assert.match(new URL(page.url()).pathname, /^\/read\/[^/]+\/0$/);

  // The demo's notes are on Alice: a link to one's passage shows it beside the passage.
  const client = await apiAs(server, { username, password });
  const alice = (await client.get('/api/books?q=Alice')).items[0];
  const notes = await client.get(`/api/books/${alice.id}/annotations`);
  assert.ok(notes.items.length > 0);
  const first = notes.items.find((n) => n.body && !n.reply_to);
  await page.goto(`/read/${alice.id}/${first.chapter}#${first.passage_id}`);
  const margin = page.getByRole('complementary', { name: 'Margin' });
  await margin.getByRole('article').filter({ hasText: first.body.slice(0, 30) }).first().waitFor();
});
