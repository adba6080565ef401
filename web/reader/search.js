// Search in the book: passages and the notes I may see, each result a link to its passage.

import { api } from '../api.js';

/** Builds the search form and its results into `parent`; `bookId`'s chapters link by index. */
export function mountSearch(parent, bookId, { failed }) {
  const form = document.createElement('form');
  form.className = 'book-search';
  form.setAttribute('role', 'search');
  form.innerHTML = `
    <label for="book-search-q">Search in this book</label>
    <div class="row"><input id="book-search-q" type="search" name="q" required>
    <button type="submit">Search</button></div>
    <div class="search-results" aria-live="polite"></div>`;
  const results = form.querySelector('.search-results');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = form.q.value.trim();
    if (!q) return;
    try {
      const found = await api(`/api/books/${bookId}/search?q=${encodeURIComponent(q)}&limit=50&annotations_limit=20`);
      results.replaceChildren(...list('Passages', found.passages.items, (p) => ({
        href: `/read/${bookId}/${p.chapter}#${p.id}`, snippet: p.snippet,
      })), ...list('Notes', found.annotations.items, (a) => ({
        href: `/read/${bookId}/${a.chapter}#${a.passage_id}`, snippet: a.snippet,
      })));
      if (!found.passages.items.length && !found.annotations.items.length) {
        const p = document.createElement('p');
        p.textContent = `Nothing in this book matches “${q}”.`;
        results.append(p);
      }
    } catch (err) {
      failed(err);
    }
  });
  parent.append(form);
}

function list(title, items, link) {
  if (!items.length) return [];
  const h = document.createElement('h3');
  h.textContent = `${title} (${items.length})`;
  const ol = document.createElement('ol');
  for (const item of items) {
    const { href, snippet } = link(item);
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = href;
    a.innerHTML = snippet; // escaped by the server, with only <mark> tags
    li.append(a);
    ol.append(li);
  }
  return [h, ol];
}
