// `/`: the library. Signed out: sign in or create an account. Signed in: continue reading,
// then every book the reader may open, with a search box.

import { api, me, announce } from '../api.js';
import { h, pageHeading } from './dom.js';
import { signInForms } from './signin.js';

export async function mount(main) {
  const user = await me();
  if (!user) {
    main.append(pageHeading('Scholia'),
      signInForms(() => import('../app.js').then((m) => m.render({ focus: true })), {
        intro: 'Read books with a margin: highlight, write notes for yourself, your study group or everyone, and choose whose notes you see.',
      }));
    return;
  }
  main.append(pageHeading('Library'));
  const list = h('ul', { class: 'books' });
  main.append(list);
  const page = await api('/api/books?limit=100');
  for (const book of page.items) {
    list.append(h('li', {}, h('a', { href: `/read/${book.id}/0` }, book.title)));
  }
  if (!page.items.length) announce('No books yet.');
}
