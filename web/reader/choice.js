// The reader's choice: `Show marginalia` (None / My groups / Everyone), `For all books` (the
// account's default, else this book's override), `My reading first`. Saved at once.

import { api } from '../api.js';

const MODES = [['none', 'None'], ['groups', 'My groups'], ['everyone', 'Everyone']];

/** The margin that applies to `bookId` from GET /api/me/preferences' answer. */
function effective(preferences, bookId) {
  const own = preferences.books?.[bookId];
  return {
    margin: own?.margin ?? preferences.margin,
    myReadingFirst: own?.my_reading_first ?? preferences.my_reading_first,
    forAllBooks: !own,
  };
}

/** Builds the controls into `parent`; `changed(effective)` runs after each saved change. */
export async function mountChoice(parent, bookId, { changed, failed }) {
  let preferences = await api('/api/me/preferences');
  const form = document.createElement('form');
  form.className = 'margin-choice';
  form.addEventListener('submit', (e) => e.preventDefault());
  const fieldset = document.createElement('fieldset');
  fieldset.setAttribute('role', 'radiogroup');
  fieldset.setAttribute('aria-labelledby', 'show-marginalia-legend');
  const legend = document.createElement('legend');
  legend.id = 'show-marginalia-legend';
  legend.textContent = 'Show marginalia';
  fieldset.append(legend);
  const radios = MODES.map(([value, label]) => {
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'show-marginalia';
    input.value = value;
    fieldset.append(labelled(input, label));
    return input;
  });
  const forAll = document.createElement('input');
  forAll.type = 'checkbox';
  const first = document.createElement('input');
  first.type = 'checkbox';
  const options = document.createElement('div');
  options.className = 'choice-options';
  options.append(labelled(forAll, 'For all books'), labelled(first, 'My reading first'));
  form.append(fieldset, options);
  parent.append(form);

  const show = () => {
    const now = effective(preferences, bookId);
    for (const r of radios) r.checked = r.value === now.margin;
    forAll.checked = now.forAllBooks;
    first.checked = now.myReadingFirst;
    return now;
  };

  // The state the controls show, saved where `For all books` says: the account's default
  // (dropping this book's override) or this book's override. Saves run one after another, each
  // with the controls as they were when changed, so quick changes arrive in order; the
  // controls show the server's answer once the last one is in.
  let saving = Promise.resolve();
  let queued = 0;
  const save = () => {
    const margin = radios.find((r) => r.checked)?.value ?? 'none';
    const own = { margin, my_reading_first: first.checked };
    const global = forAll.checked;
    queued += 1;
    saving = saving.then(async () => {
      // Every override is sent back as it was, so that the answer is the same whether the
      // server merges `books` or replaces it; `null` drops this book's.
      const body = global
        ? { ...own, ...(preferences.books?.[bookId] ? { books: { [bookId]: null } } : {}) }
        : { books: { ...preferences.books, [bookId]: own } };
      let error = null;
      try {
        preferences = await api('/api/me/preferences', { method: 'PUT', body });
      } catch (e) {
        error = e;
      }
      queued -= 1;
      if (error) failed(error);
      if (queued === 0) {
        const now = show();
        if (!error) changed(now);
      }
    });
  };
  for (const control of [...radios, forAll, first]) control.addEventListener('change', save);
  return { current: show() };
}

function labelled(input, text) {
  const label = document.createElement('label');
  label.className = 'choice';
  label.append(input, ` ${text}`);
  return label;
}
