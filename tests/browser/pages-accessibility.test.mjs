// Every page, the reader's included, passes axe-core's WCAG 2.1 A and AA rules (contrast included) in the light and
// the dark theme, and at 360 px wide.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setup, newPage, signIn, createUser, apiAs, chapterWithPassages, writeNote } from './helpers.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.stop(); });

// Injecting axe needs the page's CSP bypassed: it is a test tool, not part of the app.
async function audit(page, label) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  const found = result.violations.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  return found;
}

test('the pages have no WCAG A/AA violations', async () => {
  const { server, browser } = env;
  const admin = await createUser(server, 'ada', { role: 'admin', displayName: 'Ada' });
  const member = await createUser(server, 'ben', { displayName: 'Ben' });
  const ada = await apiAs(server, admin);
  const alice = await ada.upload('alice.epub', { access: 'signed_in' });
  const { chapter, passages } = await chapterWithPassages(ada, alice.id, 20);
  await writeNote(ada, alice.id, passages[3], { body: 'A note in the margin' });
  await ada.upload('moby-dick.epub', { access: 'public' });
  const group = await ada.post('/api/groups', { name: 'Readers', description: 'A group.', rules: 'Be kind.', open: false });
  const { code } = await ada.post(`/api/groups/${group.id}/invites`, {});
  // Cleo joined before the rules changed: her group page tells her so.
  const cleo = await createUser(server, 'cleo', { displayName: 'Cleo' });
  await (await apiAs(server, cleo)).post('/api/groups/join', { code, accept_rules: true });
  await ada.patch(`/api/groups/${group.id}`, { rules: 'Be kind. Quote, do not paraphrase.' });

  const problems = [];
  for (const [colorScheme, viewport] of [['light', { width: 1280, height: 900 }], ['dark', { width: 1280, height: 900 }], ['light', { width: 360, height: 740 }]]) {
    const tag = `${colorScheme} ${viewport.width}px`;
    const out = await newPage(browser, server, { colorScheme, viewport, bypassCSP: true });
    await out.goto('/');
    await out.getByRole('form', { name: 'Sign in' }).waitFor();
    problems.push(...await audit(out, `${tag} /`));
    await out.goto(`/join/${code}`);
    await out.getByText('Be kind.').waitFor();
    problems.push(...await audit(out, `${tag} /join`));

    const page = await newPage(browser, server, { colorScheme, viewport, bypassCSP: true });
    await signIn(page, admin);
    for (const [path, ready] of [
      ['/', (p) => p.getByRole('list', { name: 'Books' }).getByRole('link').first()],
      ['/upload', (p) => p.getByRole('table').getByRole('link').first()],
      ['/groups', (p) => p.getByRole('link', { name: 'Readers' })],
      [`/groups/${group.id}`, (p) => p.getByLabel('Invitation link').first()],
      ['/account', (p) => p.getByLabel('Role of Ben')],
      [`/read/${alice.id}/${chapter}`, (p) => p.locator('main [data-passage]').first()],
    ]) {
      await page.goto(path);
      await ready(page).waitFor();
      problems.push(...await audit(page, `${tag} ${path}`));
    }
    const b = await newPage(browser, server, { colorScheme, viewport, bypassCSP: true });
    await signIn(b, member);
    await b.goto(`/join/${code}`);
    await b.getByLabel('I accept the ground rules').waitFor();
    problems.push(...await audit(b, `${tag} /join signed in`));
    const c = await newPage(browser, server, { colorScheme, viewport, bypassCSP: true });
    await signIn(c, cleo);
    await c.goto(`/groups/${group.id}`);
    await c.getByRole('region', { name: 'Changes since you joined' }).waitFor();
    problems.push(...await audit(c, `${tag} /groups/{id} with a notice`));
  }
  assert.deepEqual(problems, []);
});
