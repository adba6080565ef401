// Shared set-up for the browser tests: a real `scholia serve` on a free port with a fresh
// database, Debian's Chromium, pages that fail the test on any error or foreign request, and
// shortcuts to make users, groups and books through the CLI and the API.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.SCHOLIA_BIN || path.join(ROOT, 'target/release/scholia');
export const FIXTURES = path.join(ROOT, 'fixtures/epub');
export const POSTGRES_ADMIN =
  process.env.SCHOLIA_TEST_POSTGRES || 'postgres://postgres@127.0.0.1:5432/test';

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, { input, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err || out}`));
    });
    child.stdin.end(input ?? '');
  });
}

async function createPostgresDatabase() {
  const name = `scholia_browser_${Math.random().toString(36).slice(2, 12)}`;
  const admin = new URL(POSTGRES_ADMIN);
  await run('psql', [POSTGRES_ADMIN, '-qc', `CREATE DATABASE ${name}`]);
  admin.pathname = `/${name}`;
  return { name, url: admin.toString() };
}

async function dropPostgresDatabase(name) {
  await run('psql', [POSTGRES_ADMIN, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
}

// Starts `scholia serve` on a fresh data dir (and, for postgres, a fresh database); resolves
// once /healthz answers. `args` adds flags (e.g. ['--allow-registration', 'false']).
export async function startServer({ database = 'sqlite', args = [] } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'scholia-browser-'));
  const pg = database === 'postgres' ? await createPostgresDatabase() : null;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const flags = ['--data-dir', dataDir, ...(pg ? ['--database-url', pg.url] : [])];
  let output = '';
  const waiters = [];
  const child = spawn(BIN, ['serve', '--addr', `127.0.0.1:${port}`, ...flags, ...args], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onData = (d) => {
    output += d;
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  child.on('exit', (code) => { exited = code; for (const w of [...waiters]) w(); });

  const server = {
    url,
    dataDir,
    databaseUrl: pg?.url ?? null,
    output: () => output,
    // Resolves with the first match of `pattern` in the server's log.
    waitForOutput(pattern, timeout = 10000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = output.match(pattern);
          if (m) { done(); resolve(m); } else if (exited !== null) {
            done(); reject(new Error(`scholia exited ${exited} before printing ${pattern}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done(); reject(new Error(`scholia did not print ${pattern} in ${timeout} ms:\n${output}`));
        }, timeout);
        const done = () => { clearTimeout(timer); waiters.splice(waiters.indexOf(check), 1); };
        waiters.push(check);
        check();
      });
    },
    // Runs a scholia command against the same data dir and database.
    cli(cmdArgs, input) {
      return run(BIN, [...cmdArgs, ...flags], { input });
    },
    async stop() {
      if (exited === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      if (pg) await dropPostgresDatabase(pg.name);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 20000;
  for (;;) {
    if (exited !== null) throw new Error(`scholia serve exited ${exited}:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`scholia serve did not answer /healthz within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

const openPages = [];

// A page in its own context (its own cookies) that records page errors, console errors and
// any request leaving the server's origin; the test fails on any of them (see afterEach).
// `options` go to browser.newContext (viewport, colorScheme, reducedMotion...).
export async function newPage(browser, server, options = {}) {
  const context = await browser.newContext({
    baseURL: server.url, viewport: { width: 1280, height: 900 }, colorScheme: 'light', ...options,
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A 4xx answer the page handles (401 from /api/me when signed out, a refused upload)
    // is logged by Chromium as a console error too; those are the app's business, 5xx are not.
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) {
      problems.push(`console error: ${m.text()} (${m.location().url})`);
    }
  });
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === server.url || u.protocol === 'data:' || u.protocol === 'blob:') return route.continue();
    problems.push(`request to another origin: ${u.href}`);
    return route.abort();
  });
  page.problems = problems;
  openPages.push(page);
  return page;
}

afterEach(async () => {
  const pages = openPages.splice(0);
  const problems = [];
  for (const page of pages) {
    problems.push(...page.problems);
    await page.context().close().catch(() => {});
  }
  if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
});

// Creates a user with the CLI (any role, no registration needed); returns its credentials.
export async function createUser(server, username, { role = 'reader', password = `${username}-password-123`, displayName = username } = {}) {
  await server.cli(['user', 'add', username, '--role', role, '--password-stdin', '--display-name', displayName], `${password}\n`);
  return { username, password, displayName };
}

// A small API client signed in as one user (a session cookie, same-origin Origin header).
export async function apiAs(server, { username, password }) {
  let cookie = '';
  let csrf = '';
  const call = async (method, p, body, form) => {
    const headers = { Origin: server.url, Accept: 'application/json' };
    if (cookie) headers.Cookie = cookie;
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(server.url + p, {
      method, headers, body: form ?? (body !== undefined ? JSON.stringify(body) : undefined),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) cookie = setCookie.split(';')[0];
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status}: ${text}`);
    return json;
  };
  const login = await call('POST', '/api/auth/login', { username, password });
  csrf = login.csrf_token ?? '';
  return {
    user: login,
    get: (p) => call('GET', p),
    post: (p, body) => call('POST', p, body ?? {}),
    put: (p, body) => call('PUT', p, body),
    patch: (p, body) => call('PATCH', p, body),
    delete: (p, body) => call('DELETE', p, body),
    // Uploads fixtures/epub/NAME (or a path) as a book; `fields` adds access, groups...
    async upload(name, fields = {}) {
      const file = name.includes('/') ? name : path.join(FIXTURES, name);
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob([await readFile(file)]), path.basename(file));
      return call('POST', '/api/books', undefined, form);
    },
  };
}

// Signs a page in through the sign-in form, as a person would.
export async function signIn(page, { username, password }) {
  await page.goto('/');
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  // Attached, not visible: on a narrow screen it sits behind the Menu button.
  await page.getByRole('button', { name: 'Sign out', includeHidden: true }).waitFor({ state: 'attached' });
}

// Everything one scenario usually needs, torn down by the returned stop().
export async function setup(options) {
  const server = await startServer(options);
  const browser = await launchBrowser();
  return {
    server,
    browser,
    async stop() {
      await browser.close();
      await server.stop();
    },
  };
}

// The first chapter of a book with at least `min` passages, and its passages.
export async function chapterWithPassages(client, bookId, min = 3) {
  const book = await client.get(`/api/books/${bookId}`);
  const chapter = book.chapters.find((c) => c.passages >= min);
  const { items } = await client.get(`/api/books/${bookId}/passages?chapter=${chapter.index}`);
  return { chapter: chapter.index, passages: items };
}

// Writes a note through the API on the first `length` code points of a passage.
export function writeNote(client, bookId, passage, { body, audience = 'private', length = 12 }) {
  const exact = [...passage.text].slice(0, length).join('');
  return client.post('/api/annotations', {
    book_id: bookId, passage_id: passage.id, start: 0, end: [...exact].length, exact, body, audience,
  });
}

// Reads `read()` until `done(value)` holds or `timeout` ms have passed, and returns the last
// value, for state the page saves in the background; the caller still asserts on it.
export async function settled(read, done, { timeout = 10000 } = {}) {
  const until = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
