// `/upload` (librarians and admins): drop or pick many EPUBs, each uploaded with its own
// progress bar and result; then the catalogue, where a book's access changes or it goes.

import { api, me, upload, announce } from '../api.js';
import { h, field, busy, pageHeading } from './dom.js';

const ACCESS = [
  ['public', 'Public: anyone, also without an account'],
  ['signed_in', 'Signed-in readers'],
  ['groups', 'Only the groups chosen below'],
];

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// Every group by name, to choose which may read a book (librarians and admins may list them).
async function allGroups() {
  const groups = [];
  let cursor = null;
  do {
    const page = await api(`/api/groups?all=true&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    groups.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return groups.sort((x, y) => x.name.localeCompare(y.name));
}

// An access select plus the groups to pick when access is "groups"; `value()` reads both.
function accessPicker(groups, { access = 'signed_in', chosen = [] } = {}, label = 'Access') {
  const select = h('select', { name: 'access' },
    ACCESS.map(([v, text]) => h('option', { value: v, selected: v === access }, text)));
  const f = field(label, select);
  const boxes = groups.map((g) => h('input', { type: 'checkbox', value: g.id, checked: chosen.includes(g.id) }));
  const set = h('fieldset', { class: 'groups-pick' }, h('legend', {}, 'Groups'),
    groups.length
      ? groups.map((g, i) => h('label', { class: 'choice' }, boxes[i], g.name))
      : h('p', { class: 'muted' }, 'There are no groups yet.'));
  const sync = () => { set.hidden = select.value !== 'groups'; };
  select.addEventListener('change', sync);
  sync();
  return {
    el: h('div', {}, f.wrap, set),
    value: () => ({
      access: select.value,
      groups: select.value === 'groups' ? boxes.filter((b) => b.checked).map((b) => b.value) : [],
    }),
  };
}

function uploader(groups, onImported) {
  const picker = accessPicker(groups, {}, 'Access for new books');
  const input = h('input', { type: 'file', accept: '.epub,application/epub+zip', multiple: true });
  const pick = field('EPUB files', input, 'Choose one or many; or drop them on this box.');
  const zone = h('div', { class: 'dropzone' }, h('p', {}, 'Drop EPUB files here'), pick.wrap);
  const results = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  let queue = Promise.resolve();

  const send = (file) => {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': `Uploading ${file.name}` });
    const state = h('span', { class: 'state' }, 'Waiting…');
    const row = h('li', {}, h('span', { class: 'name' }, file.name), state, bar);
    results.append(row);
    queue = queue.then(async () => {
      state.textContent = 'Uploading…';
      const { access, groups: ids } = picker.value();
      const form = new FormData();
      form.append('access', access);
      if (ids.length) form.append('groups', ids.join(','));
      form.append('file', file, file.name);
      try {
        const { body } = await upload('/api/books', form, (f) => { bar.value = f; });
        bar.value = 1;
        if (body.status === 'duplicate') {
          state.className = 'result-duplicate';
          state.textContent = 'Duplicate';
          row.append(h('p', { class: 'hint', style: 'grid-column: 1 / -1' }, 'Already in the library as ',
            h('a', { href: `/read/${body.id}/0` }, body.title), '.'));
          announce(`${file.name}: already in the library.`);
        } else {
          state.className = 'result-imported';
          state.textContent = 'Imported';
          row.append(h('p', { class: 'hint', style: 'grid-column: 1 / -1' },
            h('a', { href: `/read/${body.id}/0` }, body.title),
            ` — ${plural(body.chapters, 'chapter')}, ${plural(body.passages, 'passage')}`,
            body.warnings?.length ? `; ${body.warnings.join('; ')}` : ''));
          announce(`${file.name}: imported.`);
          onImported();
        }
      } catch (e) {
        bar.remove();
        state.className = 'result-refused';
        state.textContent = 'Refused';
        row.append(h('p', { class: 'reason' }, e.message));
        announce(`${file.name}: refused. ${e.message}`, { assertive: true });
      }
    });
  };
  const addFiles = (files) => {
    const list = [...files];
    if (!list.length) return;
    list.forEach(send);
    announce(`${list.length} ${list.length === 1 ? 'file' : 'files'} queued.`);
  };

  input.addEventListener('change', () => { addFiles(input.files); input.value = ''; });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    addFiles(e.dataTransfer.files);
  });
  return h('section', { 'aria-labelledby': 'up-title', class: 'card' },
    h('h2', { id: 'up-title' }, 'Add books'), picker.el, zone, results);
}

function catalogue(groups) {
  const body = h('tbody');
  const section = h('section', { 'aria-labelledby': 'cat-title' },
    h('h2', { id: 'cat-title' }, 'Catalogue'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Book'), h('th', {}, 'Access'), h('th', {}, h('span', { class: 'visually-hidden' }, 'Actions')))),
      body)));
  const label = (access) => ACCESS.find(([v]) => v === access)?.[1].split(':')[0] ?? access;

  const row = (book) => {
    const access = h('td', {}, label(book.access));
    const actions = h('td', { class: 'actions', style: 'margin: 0' });
    const tr = h('tr', {}, h('td', {}, h('a', { href: `/read/${book.id}/0` }, book.title),
      h('span', { class: 'book-meta' }, (book.authors ?? []).join(', '))), access, actions);
    const idle = () => actions.replaceChildren(
      h('button', { type: 'button', onclick: edit, 'aria-label': `Change access of ${book.title}` }, 'Change access'),
      h('button', { type: 'button', class: 'danger', onclick: askDelete, 'aria-label': `Delete ${book.title}` }, 'Delete'));
    async function edit() {
      try {
        const full = await api(`/api/books/${book.id}`);
        const picker = accessPicker(groups, { access: full.access, chosen: (full.groups ?? []).map((g) => g.id ?? g) }, `Access to ${book.title}`);
        const form = h('form', {}, picker.el, h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary' }, 'Save access'),
          h('button', { type: 'button', onclick: idle }, 'Cancel')));
        form.addEventListener('submit', async (e) => {
          e.preventDefault();
          try {
            const updated = await busy(form, () => api(`/api/books/${book.id}`, { method: 'PATCH', body: picker.value() }));
            book.access = updated?.access ?? picker.value().access;
            access.textContent = label(book.access);
            announce(`Access to ${book.title} saved.`);
            idle();
          } catch (err) {
            announce(err.message, { assertive: true });
          }
        });
        actions.replaceChildren(form);
        form.querySelector('select').focus();
      } catch (err) {
        announce(err.message, { assertive: true });
      }
    }
    function askDelete() {
      const yes = h('button', { type: 'button', class: 'danger' }, `Delete “${book.title}” for good`);
      yes.addEventListener('click', async () => {
        try {
          await api(`/api/books/${book.id}`, { method: 'DELETE' });
          tr.remove();
          announce(`${book.title} deleted.`);
        } catch (err) {
          announce(err.message, { assertive: true });
        }
      });
      actions.replaceChildren(h('span', { class: 'hint' }, 'Its notes go with it.'), yes,
        h('button', { type: 'button', onclick: idle }, 'Cancel'));
      yes.focus();
    }
    idle();
    return tr;
  };

  const refresh = async () => {
    const items = [];
    let cursor = null;
    do {
      const page = await api(`/api/books?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    body.replaceChildren(...items.map(row));
    if (!items.length) body.append(h('tr', {}, h('td', { colSpan: 3, class: 'muted' }, 'No books yet.')));
  };
  return { section, refresh };
}

export async function mount(main) {
  main.append(pageHeading('Upload books'));
  const user = await me();
  if (!user || (user.role !== 'librarian' && user.role !== 'admin')) {
    main.append(h('p', { class: 'notice' }, 'Only librarians and administrators add books. ',
      user ? 'An administrator can make you a librarian.' : h('a', { href: '/' }, 'Sign in first.')));
    return;
  }
  const groups = await allGroups();
  const cat = catalogue(groups);
  let pending = null;
  const refreshSoon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => cat.refresh().catch((e) => announce(e.message, { assertive: true })), 300);
  };
  main.append(uploader(groups, refreshSoon), cat.section);
  await cat.refresh();
}
