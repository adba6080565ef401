// `/join/{code}`: an invitation. It shows the group, its ground rules and who will read what
// one writes there, and joins only after the rules are explicitly accepted.

import { api, me, announce } from '../api.js';
import { h, busy, pageHeading } from './dom.js';
import { signInForms } from './signin.js';

export async function mount(main, code) {
  let preview;
  try {
    preview = await api(`/api/groups/invites/${encodeURIComponent(code)}`);
  } catch (e) {
    if (e.status !== 404 && e.status !== 410) throw e;
    main.append(pageHeading('Invitation'), h('p', { class: 'notice' },
      `This invitation cannot be used: ${e.message}. Ask the person who sent it for a new link.`));
    return;
  }
  const { group } = preview;
  main.append(pageHeading(`Join ${group.name}`));
  if (group.description) main.append(h('p', { class: 'lede' }, group.description));
  main.append(
    h('section', { 'aria-labelledby': 'rules-title' }, h('h2', { id: 'rules-title' }, 'Ground rules'),
      group.rules ? h('p', { class: 'prose' }, group.rules) : h('p', { class: 'muted' }, 'This group has not written ground rules.')),
    h('section', { 'aria-labelledby': 'who-title' }, h('h2', { id: 'who-title' }, 'Who reads what you write here'),
      h('p', { style: 'max-width: var(--measure)' }, preview.audience)));

  const user = await me();
  if (!user) {
    main.append(h('h2', {}, 'Sign in to join'),
      signInForms(() => import('../app.js').then((m) => m.render({ focus: true }))));
    return;
  }
  if (group.role) {
    main.append(h('p', { class: 'notice' }, 'You are already a member. ', h('a', { href: `/groups/${group.id}` }, `Go to ${group.name}`), '.'));
    return;
  }
  const accept = h('input', { type: 'checkbox', name: 'accept', required: true });
  const form = h('form', { class: 'card', style: 'max-width: 36rem; margin-top: 1.5rem' },
    h('label', { class: 'choice' }, accept, 'I accept the ground rules'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Join group')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await busy(form, () => api('/api/groups/join', { method: 'POST', body: { code, accept_rules: accept.checked } }));
      announce(`You joined ${group.name}.`);
      (await import('../app.js')).navigate(`/groups/${group.id}`);
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  main.append(form);
}
