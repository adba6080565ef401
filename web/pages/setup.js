// `/setup/{token}`: the first run. The one-time link printed by `scholia serve` on an empty
// database lets its holder create the first account, which becomes the administrator.

import { api, refreshMe, announce } from '../api.js';
import { h, field, busy, pageHeading } from './dom.js';

export async function mount(main, token) {
  main.append(pageHeading('Set up Scholia'));
  const path = `/api/setup/${encodeURIComponent(token)}`;
  try {
    await api(path);
  } catch (e) {
    if (e.status !== 404 && e.status !== 410) throw e;
    main.append(h('p', { class: 'notice' }, `This setup link cannot be used: ${e.message}. `,
      'It works once, on a new server; its administrator may already exist. ',
      h('a', { href: '/' }, 'Sign in instead'), '.'));
    return;
  }
  const user = field('Username', h('input', { name: 'username', autocomplete: 'username', required: true }));
  const display = field('Display name', h('input', { name: 'display_name', autocomplete: 'name', required: true, maxLength: 80 }),
    'What others see beside your shared notes.');
  const pass = field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true }),
    'At least the length the server asks for; this account can manage everything.');
  const form = h('form', { class: 'card', style: 'max-width: 28rem' },
    h('p', {}, 'This link creates the first account of this library. It becomes the administrator, who can name librarians and upload books.'),
    user.wrap, display.wrap, pass.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Create administrator'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const credentials = { username: user.input.value, password: pass.input.value };
    try {
      await busy(form, async () => {
        await api(path, { method: 'POST', body: { ...credentials, display_name: display.input.value } });
        if (!(await refreshMe())) {
          await api('/api/auth/login', { method: 'POST', body: credentials });
          await refreshMe();
        }
      });
      announce('The administrator account is ready. You are signed in.');
      (await import('../app.js')).navigate('/account', { replace: true });
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  main.append(form);
}
