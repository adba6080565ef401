// Sign in and create account, shown wherever a page needs a signed-in reader.

import { api, refreshMe, announce } from '../api.js';
import { h, field, busy } from './dom.js';

// Renders both forms into `container`; `onSignedIn` runs after either succeeds.
export function signInForms(onSignedIn, { intro } = {}) {
  const signIn = h('form', { class: 'card auth', 'aria-labelledby': 'signin-title' });
  const user = field('Username', h('input', { name: 'username', autocomplete: 'username', required: true }));
  const pass = field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }));
  signIn.append(h('h2', { id: 'signin-title' }, 'Sign in'), user.wrap, pass.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  signIn.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await busy(signIn, () => api('/api/auth/login', {
        method: 'POST', body: { username: user.input.value, password: pass.input.value },
      }));
      const me = await refreshMe();
      announce(`Signed in as ${me.display_name}.`);
      onSignedIn();
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });

  const create = h('form', { class: 'card auth', 'aria-labelledby': 'create-title' });
  const newUser = field('Username', h('input', { name: 'username', autocomplete: 'username', required: true }));
  const display = field('Display name', h('input', { name: 'display_name', autocomplete: 'nickname', required: true, maxLength: 80 }),
    'What others see beside your shared notes; a pseudonym is fine.');
  const newPass = field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true }));
  create.append(h('h2', { id: 'create-title' }, 'Create an account'), newUser.wrap, display.wrap, newPass.wrap,
    h('button', { type: 'submit' }, 'Create account'));
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await busy(create, () => api('/api/auth/register', {
        method: 'POST',
        body: { username: newUser.input.value, password: newPass.input.value, display_name: display.input.value },
      }));
      const me = await refreshMe();
      announce(`Welcome, ${me.display_name}. Your account is ready.`);
      onSignedIn();
    } catch (err) {
      if (err.status === 403 || err.status === 404) {
        create.replaceChildren(h('h2', { id: 'create-title' }, 'Create an account'),
          h('p', {}, 'This library does not take new accounts by sign-up. Ask its librarian or administrator for one.'));
        announce('Registration is turned off on this server.');
      } else {
        announce(err.message, { assertive: true });
      }
    }
  });

  return h('div', { class: 'auth-forms' }, intro ? h('p', { class: 'lede' }, intro) : null, signIn, create);
}
