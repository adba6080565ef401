// The shell: routes a URL to its page, keeps the header's sign-in state, opens the help
// dialog. Every page is reachable by its URL, so reloads and shared links work.

import { api, me, setMe, announce } from './api.js';

const main = document.getElementById('main');
const nav = document.querySelector('.app-nav');
const menu = document.querySelector('.menu-toggle');
const header = document.querySelector('.app-header');

// [pattern, loader]: the loader gives a module whose mount(main, ...parts of the URL) draws
// the page into <main> and may return {unmount()}.
const routes = [
  [/^\/$/, () => import('./pages/library.js')],
  [/^\/read\/([^/]+)\/(\d+)$/, ([bookId, chapter]) =>
    import('./reader/reader.js').then((m) => ({
      mount: (el) => m.mountReader(el, {
        bookId,
        chapter: Number(chapter),
        passageId: decodeURIComponent(location.hash.slice(1)) || null,
      }),
    }))],
  [/^\/setup\/([^/]+)$/, () => import('./pages/setup.js')],
  [/^\/upload$/, () => import('./pages/upload.js')],
  [/^\/account$/, () => import('./pages/account.js')],
  [/^\/groups$/, () => import('./pages/groups.js')],
  [/^\/groups\/([^/]+)$/, () => import('./pages/group.js')],
  [/^\/join\/([^/]+)$/, () => import('./pages/join.js')],
];

const shellShortcuts = [
  { keys: '?', description: 'Show this list of shortcuts' },
  { keys: 'Tab / Shift+Tab', description: 'Move between links, buttons and fields' },
];

let mounted = null;
let renderId = 0;

function match(path) {
  for (const [pattern, load] of routes) {
    const m = pattern.exec(path);
    if (m) return { load, params: m.slice(1).map(decodeURIComponent) };
  }
  return null;
}

function notFound() {
  main.replaceChildren();
  const h1 = document.createElement('h1');
  h1.textContent = 'Page not found';
  const p = document.createElement('p');
  p.innerHTML = 'There is nothing at this address. <a href="/">Back to the library</a>.';
  main.append(h1, p);
  document.title = 'Page not found · Scholia';
}

export async function render({ focus = false } = {}) {
  const id = ++renderId;
  mounted?.unmount?.();
  mounted = null;
  const route = match(location.pathname);
  await renderNav();
  if (!route) return notFound();
  main.replaceChildren();
  main.removeAttribute('class');
  document.title = 'Scholia';
  try {
    const page = await route.load(route.params);
    if (id !== renderId) return;
    mounted = (await page.mount(main, ...route.params)) ?? null;
  } catch (e) {
    if (id !== renderId) return;
    if (e.status === 401 && (await me())) {
      // The session ended (signed out elsewhere, expired): show the page as signed out.
      setMe(null);
      return render({ focus });
    }
    main.replaceChildren();
    const h1 = document.createElement('h1');
    h1.textContent = e.status === 404 ? 'Not found' : 'Something went wrong';
    document.title = `${h1.textContent} · Scholia`;
    const p = document.createElement('p');
    p.textContent = e.message;
    main.append(h1, p);
    announce(e.message, { assertive: true });
  }
  // Focus moves to the new page's heading unless the page placed it (the reader focuses the
  // passage a link names).
  if (focus && id === renderId && !main.contains(document.activeElement)) {
    const heading = main.querySelector('h1');
    (heading ?? main).setAttribute('tabindex', '-1');
    (heading ?? main).focus({ preventScroll: false });
  }
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.scrollTo(0, 0);
  render({ focus: true });
}

async function renderNav() {
  let user = null;
  try {
    user = await me();
  } catch (e) {
    announce(e.message, { assertive: true });
  }
  nav.replaceChildren();
  setMenu(false);
  const link = (href, text) => {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = text;
    if (location.pathname === href) a.setAttribute('aria-current', 'page');
    return a;
  };
  menu.hidden = !user;
  if (!user) {
    if (location.pathname !== '/') nav.append(link('/', 'Sign in'));
    return;
  }
  nav.append(link('/', 'Library'), link('/groups', 'Groups'));
  if (user.role === 'librarian' || user.role === 'admin') nav.append(link('/upload', 'Upload'));
  nav.append(link('/account', 'Account'));
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = user.display_name;
  const out = document.createElement('button');
  out.type = 'button';
  out.className = 'quiet';
  out.textContent = 'Sign out';
  out.addEventListener('click', signOut);
  nav.append(who, out);
}

// On a narrow screen the site links fold behind a Menu button, leaving the page the room.
function setMenu(open) {
  header.classList.toggle('menu-open', open);
  menu.setAttribute('aria-expanded', String(open));
}
menu.addEventListener('click', () => setMenu(!header.classList.contains('menu-open')));
header.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && header.classList.contains('menu-open')) {
    setMenu(false);
    menu.focus();
  }
});

async function signOut() {
  try {
    await api('/api/auth/logout', { method: 'POST' });
    setMe(null);
    announce('Signed out.');
    navigate('/');
  } catch (e) {
    announce(e.message, { assertive: true });
  }
}

// Same-origin links change the page without a reload.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname === location.pathname && url.hash && url.search === location.search) return;
  if (a.getAttribute('href').startsWith('#')) return;
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => render({ focus: true }));

async function openHelp() {
  const dialog = document.getElementById('help');
  const list = dialog.querySelector('.shortcuts');
  let readerShortcuts = [];
  if (location.pathname.startsWith('/read/')) {
    try {
      readerShortcuts = (await import('./reader/reader.js')).shortcuts ?? [];
    } catch {
      readerShortcuts = [];
    }
  }
  list.replaceChildren();
  for (const { keys, description } of [...shellShortcuts, ...readerShortcuts]) {
    const dt = document.createElement('dt');
    const kbd = document.createElement('kbd');
    kbd.textContent = keys;
    dt.append(kbd);
    const dd = document.createElement('dd');
    dd.textContent = description;
    list.append(dt, dd);
  }
  if (!dialog.open) dialog.showModal();
}

function typing(target) {
  return target.closest?.('input, textarea, select, [contenteditable=""], [contenteditable="true"]');
}

document.addEventListener('keydown', (e) => {
  if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.composedPath()[0] ?? e.target)) {
    e.preventDefault();
    openHelp();
  }
});

// The theme chosen in the reader's display settings holds on every page, also after a reload.
import('./reader/settings.js').then((m) => m.applySettings(main));

render();
