// `/`: the library. Signed out: sign in or create an account. Signed in: continue reading,
// then every book the reader may open, searchable by title or author.

import { api, me, announce } from '../api.js';
import { h, pageHeading } from './dom.js';
import { signInForms } from './signin.js';

const languages = typeof Intl.DisplayNames === 'function'
  ? new Intl.DisplayNames(undefined, { type: 'language' }) : null;

function languageName(code) {
  if (!code) return '';
  try {
    return languages?.of(code) ?? code;
  } catch {
    return code;
  }
}

function bookCard(book, href = `/read/${book.id}/0`) {
  const authors = (book.authors ?? []).join(', ');
  const cover = book.cover
    ? h('img', { class: 'cover', src: book.cover, alt: '', loading: 'lazy', decoding: 'async' })
    : h('span', { class: 'cover', 'aria-hidden': 'true' }, book.title);
  return h('li', { class: 'book' },
    h('a', { href }, cover,
      h('span', { class: 'book-title' }, book.title),
      authors ? h('span', { class: 'book-meta' }, authors) : null,
      book.language ? h('span', { class: 'book-meta', lang: book.language }, languageName(book.language)) : null));
}

// Books already started, most recent first, each opening where the reader left off.
async function continueReading() {
  let progress;
  try {
    progress = await api('/api/me/progress?limit=6');
  } catch (e) {
    if (e.status === 404) return null; // a server without reading positions
    throw e;
  }
  const items = progress?.items ?? [];
  if (!items.length) return null;
  return h('section', { 'aria-labelledby': 'continue-title' },
    h('h2', { id: 'continue-title' }, 'Continue reading'),
    h('ul', { class: 'continue' }, items.map((p) => {
      const hash = p.passage ? `#${encodeURIComponent(p.passage)}` : '';
      return h('li', {}, h('a', { href: `/read/${p.book_id}/${p.chapter}${hash}` },
        h('span', { class: 'book-title' }, p.title),
        h('span', { class: 'book-meta' }, (p.authors ?? []).join(', '))));
    })));
}

async function allBooks(q) {
  const items = [];
  let cursor = null;
  do {
    const params = new URLSearchParams({ limit: '100' });
    if (q) params.set('q', q);
    if (cursor) params.set('cursor', cursor);
    const page = await api(`/api/books?${params}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < 2000);
  return items;
}

export async function mount(main) {
  const user = await me();
  if (!user) {
    main.append(pageHeading('Welcome to Scholia'),
      signInForms(() => import('../app.js').then((m) => m.render({ focus: true })), {
        intro: 'Read books with a margin: highlight, write notes for yourself, your study group or everyone, and choose whose notes you see.',
      }));
    return;
  }
  const q = new URLSearchParams(location.search).get('q') ?? '';
  const books = await allBooks('');

  main.append(pageHeading('Library'));
  const cont = await continueReading();
  if (cont) main.append(cont);

  const input = h('input', { type: 'search', name: 'q', value: q, 'aria-label': 'Search the library', placeholder: 'Title or author' });
  const form = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit' }, 'Search'));
  const heading = h('h2', { id: 'books-title' }, 'Books');
  const list = h('ul', { class: 'books', 'aria-labelledby': 'books-title' });
  const empty = h('p', { class: 'muted' });
  main.append(h('section', { 'aria-labelledby': 'books-title' }, heading, form, list, empty));

  const show = (items, query) => {
    list.replaceChildren(...items.map((b) => bookCard(b)));
    if (items.length) empty.textContent = '';
    else if (query) empty.textContent = `No book matches “${query}”.`;
    else if (user.role === 'librarian' || user.role === 'admin') {
      empty.replaceChildren('The library is empty. ', h('a', { href: '/upload' }, 'Upload the first books'), '.');
    } else empty.textContent = 'No books are available to you yet.';
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const query = input.value.trim();
    const url = query ? `/?q=${encodeURIComponent(query)}` : '/';
    history.replaceState(null, '', url);
    try {
      const found = query ? await allBooks(query) : books;
      show(found, query);
      announce(query ? `${found.length} ${found.length === 1 ? 'book matches' : 'books match'} “${query}”.` : `${found.length} books.`);
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });

  show(q ? await allBooks(q) : books, q);
}
