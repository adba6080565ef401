// Getting in and the account page: sign-up, a wrong password's message, registration turned
// off, preferences, tokens, export, and deleting the account.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, createUser, startServer, apiAs, chapterWithPassages, writeNote } from './helpers.mjs';

let env;
let book;
before(async () => {
  env = await setup();
  const lib = await apiAs(env.server, await createUser(env.server, 'libby', { role: 'librarian' }));
  book = await lib.upload('alice.epub', { access: 'signed_in' });
});

// `writer` signs a public note on the book, so that every signed-in reader may mute them.
async function publicNote(writer, body) {
  const { passages } = await chapterWithPassages(writer, book.id);
  return writeNote(writer, book.id, passages[0], { body, audience: 'public' });
}
after(async () => { await env?.stop(); });

test('a wrong password is answered in words; sign out returns to the sign-in form', async () => {
  const { server, browser } = env;
  const user = await createUser(server, 'wanda');
  const page = await newPage(browser, server);
  await page.goto('/');
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Username').fill(user.username);
  await form.getByLabel('Password').fill('not the password');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await form.getByRole('alert').filter({ hasText: /password/i }).waitFor();
  await page.locator('#alert').filter({ hasText: /password/i }).waitFor();

  await signIn(page, user);
  await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
});

test('account: unmute, preferences, token, export, delete', async () => {
  const { server, browser } = env;
  const user = await createUser(server, 'carla', { displayName: 'Carla' });
  const loud = await apiAs(server, await createUser(server, 'lou', { displayName: 'Loud Lou' }));
  const carla = await apiAs(server, user);
  await publicNote(loud, 'LOUD OPINIONS');
  await carla.post('/api/me/mutes', { user_id: loud.user.id });
  const page = await newPage(browser, server);
  await signIn(page, user);
  await page.getByRole('link', { name: 'Account' }).click();

  await page.getByRole('button', { name: 'Unmute Loud Lou' }).click();
  await page.getByText('Nobody. Mute a person').waitFor();
  assert.deepEqual((await carla.get('/api/me/mutes')).items, []);

  await page.getByRole('radio', { name: 'Everyone' }).check();
  await page.getByLabel('My reading first').check();
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await page.locator('#status').filter({ hasText: 'Preferences saved' }).waitFor();
  await page.reload();
  assert.equal(await page.getByRole('radio', { name: 'Everyone' }).isChecked(), true);
  assert.equal(await page.getByLabel('My reading first').isChecked(), true);

  await page.getByLabel('Token name').fill('backup script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.locator('code.token').innerText();
  const res = await fetch(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal((await res.json()).username, 'carla');
  await page.getByRole('button', { name: 'Revoke backup script' }).click();
  await page.getByText('Token backup script revoked').waitFor();
  const revoked = await fetch(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(revoked.status, 401);

  await page.getByRole('button', { name: 'Export my notes' }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download scholia-notes.json' }).click();
  assert.equal((await download).suggestedFilename(), 'scholia-notes.json');

  const del = page.getByRole('form', { name: 'Delete my account' });
  await del.getByLabel('Password').fill('wrong');
  await del.getByRole('button', { name: 'Delete my account' }).click();
  await del.getByRole('alert').filter({ hasText: /password/i }).waitFor();
  await del.getByLabel('Password').fill(user.password);
  await del.getByRole('button', { name: 'Delete my account' }).click();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
  const gone = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'carla', password: user.password }),
  });
  assert.equal(gone.status, 401);
});

test('people muted whose notes one no longer sees stay listed, unnamed, each with its own Unmute', async () => {
  const { server, browser } = env;
  const user = await createUser(server, 'mona', { displayName: 'Mona' });
  const mona = await apiAs(server, user);
  for (const [login, name] of [['pia', 'Pia Named'], ['quin', 'Quin Named']]) {
    const writer = await apiAs(server, await createUser(server, login, { displayName: name }));
    const note = await publicNote(writer, `A note by ${name}`);
    await mona.post('/api/me/mutes', { user_id: writer.user.id });
    // Made private again: Mona no longer reads any note of theirs.
    await writer.patch(`/api/annotations/${note.id}`, { audience: 'private' });
  }
  const ray = await apiAs(server, await createUser(server, 'ray', { displayName: 'Ray Shown' }));
  await publicNote(ray, 'Still public');
  await mona.post('/api/me/mutes', { user_id: ray.user.id });
  assert.deepEqual((await mona.get('/api/me/mutes')).items.map((m) => m.display_name), ['Ray Shown', null, null]);

  const page = await newPage(browser, server);
  await signIn(page, user);
  await page.goto('/account');
  const section = page.getByRole('region', { name: 'Muted people' });
  await section.getByRole('button', { name: 'Unmute Ray Shown' }).waitFor();
  const first = section.getByRole('button', { name: 'Unmute reader 1 whose notes you no longer see', exact: true });
  const second = section.getByRole('button', { name: 'Unmute reader 2 whose notes you no longer see', exact: true });
  await section.getByText('Reader 1 whose notes you no longer see').waitFor();
  assert.equal(await section.getByRole('button', { name: /^Unmute/ }).count(), 3);
  assert.equal(await section.getByText(/Named/).count(), 0, 'nobody unseen is named');

  await second.click();
  await page.locator('#status').filter({ hasText: 'Unmuted' }).waitFor();
  // One unnamed is left, and its button says so without a number.
  await section.getByRole('button', { name: 'Unmute a reader whose notes you no longer see', exact: true }).click();
  await first.waitFor({ state: 'detached' });
  await section.getByRole('button', { name: 'Unmute a reader whose notes you no longer see' }).waitFor({ state: 'detached' });
  assert.deepEqual((await mona.get('/api/me/mutes')).items.map((m) => m.display_name), ['Ray Shown']);
});

test('with registration off, the page says so instead of failing', async () => {
  const server = await startServer({ args: ['--allow-registration', 'false'] });
  try {
    const page = await newPage(env.browser, server);
    await page.goto('/');
    const form = page.getByRole('form', { name: 'Create an account' });
    await form.getByLabel('Username').fill('newbie');
    await form.getByLabel('Display name').fill('Newbie');
    await form.getByLabel('Password').fill('newbie-password-123');
    await form.getByRole('button', { name: 'Create account' }).click();
    await form.getByText('does not take new accounts').waitFor();
  } finally {
    await server.stop();
  }
});

test('the shell: skip link, help dialog on ?, deep links on reload, unknown pages', async () => {
  const { server, browser } = env;
  const user = await createUser(server, 'kim');
  const page = await newPage(browser, server);
  await signIn(page, user);
  await page.goto('/groups');
  await page.getByRole('heading', { level: 1, name: 'Study groups' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Study groups' }).waitFor();

  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  assert.equal(await skip.evaluate((el) => el === document.activeElement), true);

  await page.keyboard.press('Shift+Slash');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  await help.getByText('Show this list of shortcuts').waitFor();
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });

  // Typing a ? in a field types it.
  await page.getByLabel('Name').fill('');
  await page.getByLabel('Name').press('Shift+Slash');
  assert.equal(await page.getByLabel('Name').inputValue(), '?');
  assert.equal(await help.isVisible(), false);

  // The theme picked in the reader holds on the other pages after a reload.
  await page.evaluate(() => localStorage.setItem('scholia.reader', JSON.stringify({ theme: 'sepia' })));
  await page.reload();
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'sepia');
  await page.evaluate(() => localStorage.removeItem('scholia.reader'));

  await page.goto('/read/no-such-book');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();

  // A group one may not see answers in words.
  const owner = await apiAs(server, await createUser(server, 'owen'));
  const hidden = await owner.post('/api/groups', { name: 'Private circle', description: '', rules: '', open: false });
  await page.goto(`/groups/${hidden.id}`);
  await page.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();
  await page.getByText(/group/i).first().waitFor();

  // When the session ends elsewhere, the next page asks to sign in again.
  await page.getByRole('link', { name: 'Account' }).waitFor();
  await page.evaluate(async () => {
    const me = await (await fetch('/api/me')).json();
    await fetch('/api/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': me.csrf_token } });
  });
  await page.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
});

test('keyboard only: sign in, reach a page from the header, focus always visible', async () => {
  const { server, browser } = env;
  const user = await createUser(server, 'kira', { displayName: 'Kira' });
  const page = await newPage(browser, server);
  await page.goto('/');
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return {
      name: el.labels?.[0]?.textContent ?? el.textContent.trim(),
      outline: getComputedStyle(el).outlineStyle,
      tag: el.localName,
    };
  });
  const tabTo = async (name, key = 'Tab') => {
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(key);
      const f = await focused();
      assert.notEqual(f.outline, 'none', `focus on ${f.tag} “${f.name}” is visible`);
      if (f.name === name) return;
    }
    assert.fail(`${name} is not reachable with ${key}`);
  };
  await tabTo('Username');
  await page.keyboard.type(user.username);
  await tabTo('Password');
  await page.keyboard.type(user.password);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
  await page.waitForFunction(() => document.activeElement?.localName === 'h1');
  await tabTo('Groups', 'Shift+Tab');
  await page.keyboard.press('Enter');
  // Once the page has loaded, focus moves to its heading (a screen reader reads it out).
  await page.waitForFunction(() => document.activeElement?.localName === 'h1');
  assert.equal((await focused()).name, 'Study groups');
});

test('on a 360 px screen the site links fold behind Menu', async () => {
  const { server, browser } = env;
  const user = await createUser(server, 'nina');
  const page = await newPage(browser, server, { viewport: { width: 360, height: 740 } });
  await signIn(page, user);
  const menu = page.getByRole('button', { name: 'Menu' });
  const groups = page.getByRole('link', { name: 'Groups' });
  assert.equal(await groups.isVisible(), false);
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await groups.focus();
  await page.keyboard.press('Escape');
  assert.equal(await groups.isVisible(), false);
  assert.equal(await menu.evaluate((el) => el === document.activeElement), true);
  await menu.click();
  await groups.click();
  await page.getByRole('heading', { level: 1, name: 'Study groups' }).waitFor();
  assert.equal(await groups.isVisible(), false, 'the menu folds again on the new page');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 360, 'nothing is wider than the screen');
});
