#!/usr/bin/env node
// The reader's speed in headless Chromium: from navigation to the chapter text and its margin
// painted (the reader's `scholia:reader-painted` mark), for the longest chapter of
// fixtures/epub/moby-dick.epub with 500 and then 5,000 visible notes; median of 5 loads each.
// Also the bytes of the app's JS and CSS the reading view loads.
//
// Usage (after `cargo build --release` and `npm ci --prefix tests/browser`):
//   node bench/reader.mjs [--database postgres]
import { startServer, launchBrowser, createUser, apiAs, signIn } from '../tests/browser/helpers.mjs';

const database = process.argv.includes('--database') ? process.argv[process.argv.indexOf('--database') + 1] : 'sqlite';
const RUNS = 5;

async function bearer(server, user) {
  const session = await apiAs(server, user);
  const { token } = await session.post('/api/me/tokens', { name: 'bench' });
  return (method, path, body) => fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  }).then(async (r) => {
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : r.json();
  });
}

// Public notes by `author` spread over the chapter's passages, `concurrency` at a time.
async function seed(call, bookId, passages, from, to, concurrency = 8) {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      const p = passages[i % passages.length];
      const chars = [...p.text];
      const end = Math.min(chars.length, 1 + (i % 40));
      await call('POST', '/api/annotations', {
        book_id: bookId, passage_id: p.id, start: 0, end, exact: chars.slice(0, end).join(''),
        body: `Note ${i}: a thought on this passage, long enough to wrap onto a second line in the margin.`,
        audience: 'public', color: ['yellow', 'green', 'blue', 'pink'][i % 4],
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(browser, server, reader, url) {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const session = await apiAs(server, reader);
  await signIn(page, reader);
  await session.put('/api/me/preferences', { margin: 'everyone', my_reading_first: false });
  const times = [];
  let cards = 0;
  let bytes = null;
  for (let i = 0; i < RUNS; i++) {
    await page.goto(url);
    await page.waitForFunction(() => performance.getEntriesByName('scholia:reader-painted').length > 0, null, { timeout: 60000 });
    times.push(await page.evaluate(() => performance.getEntriesByName('scholia:reader-painted')[0].startTime));
    cards = await page.locator('.margin-layer article').count();
    // The app's JS and CSS the reading view used (not the book's resources), each file's
    // size asked again: resource timing reports no body for a revalidated (304) file.
    bytes ??= new Map(await page.evaluate(() => Promise.all(performance.getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => /\.(js|css)$/.test(p) && !p.startsWith('/api/'))
      .map(async (p) => [p, (await (await fetch(p)).arrayBuffer()).byteLength]))));
  }
  // Scrolling through the chapter half a screen at a time: the slowest step (two frames, so
  // the margin has drawn what came into view) and the tasks over 50 ms.
  const scroll = await page.evaluate(async () => {
    const long = [];
    const observer = new PerformanceObserver((list) => long.push(...list.getEntries()));
    observer.observe({ type: 'longtask' });
    const steps = [];
    for (let i = 0; i < 40; i++) {
      const start = performance.now();
      window.scrollBy(0, innerHeight / 2);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      steps.push(performance.now() - start);
    }
    observer.disconnect();
    return { slowest: Math.max(...steps), median: steps.sort((a, b) => a - b)[20], long: long.length };
  });
  await context.close();
  return { times, median: median(times), cards, bytes, scroll };
}

const server = await startServer({ database });
const browser = await launchBrowser();
try {
  const librarian = await createUser(server, 'lib', { role: 'librarian' });
  const book = await (await apiAs(server, librarian)).upload('moby-dick.epub', { access: 'public' });
  const details = await (await apiAs(server, librarian)).get(`/api/books/${book.id}`);
  const writer = await createUser(server, 'writer', { displayName: 'Ishmael' });
  const call = await bearer(server, writer);
  // The longest chapter by its text.
  let longest = null;
  let passages = [];
  for (const chapter of details.chapters) {
    const items = (await call('GET', `/api/books/${book.id}/passages?chapter=${chapter.index}&limit=500`)).items;
    const length = items.reduce((n, p) => n + p.text.length, 0);
    if (!longest || length > longest.length) {
      longest = { ...chapter, length };
      passages = items;
    }
  }
  const reader = await createUser(server, 'reader', { displayName: 'Reader' });
  const url = `/read/${book.id}/${longest.index}`;
  console.log(`database ${database}; chapter ${longest.index} "${longest.title}", ${longest.passages} passages, ${longest.length} characters`);
  let seeded = 0;
  for (const notes of [500, 5000]) {
    await seed(call, book.id, passages, seeded, notes);
    seeded = notes;
    const result = await measure(browser, server, reader, url);
    console.log(`${notes} notes: median ${result.median.toFixed(0)} ms (runs ${result.times.map((t) => t.toFixed(0)).join(', ')}); ${result.cards} cards drawn`);
    console.log(`  scrolling: step median ${result.scroll.median.toFixed(0)} ms, slowest ${result.scroll.slowest.toFixed(0)} ms, ${result.scroll.long} tasks over 50 ms`);
    if (notes === 500) {
      const app = [...result.bytes];
      const js = app.filter(([p]) => p.endsWith('.js')).reduce((n, [, b]) => n + b, 0);
      const css = app.filter(([p]) => p.endsWith('.css')).reduce((n, [, b]) => n + b, 0);
      console.log(`app JS ${js} bytes, CSS ${css} bytes (uncompressed): ${app.map(([p, b]) => `${p} ${b}`).join(', ')}`);
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
