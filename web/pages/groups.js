// `/groups`: my study groups, and a form to start one.

import { api, me, announce } from '../api.js';
import { h, field, busy, pageHeading } from './dom.js';
import { signInForms } from './signin.js';

const ROLE = { owner: 'Owner', facilitator: 'Facilitator', member: 'Member' };

export async function mount(main) {
  main.append(pageHeading('Study groups'));
  if (!(await me())) {
    main.append(signInForms(() => import('../app.js').then((m) => m.render({ focus: true }))));
    return;
  }
  const list = h('ul', { class: 'plain' });
  const mine = h('section', { 'aria-labelledby': 'mine-title' }, h('h2', { id: 'mine-title' }, 'My groups'), list);
  const refresh = async () => {
    const { items } = await api('/api/groups');
    list.replaceChildren(...items.map((g) => h('li', {},
      h('a', { href: `/groups/${g.id}` }, g.name), ' ',
      h('span', { class: 'badge' }, ROLE[g.role] ?? g.role), ' ',
      h('span', { class: 'muted' }, `${g.member_count} ${g.member_count === 1 ? 'member' : 'members'}${g.open ? ', open' : ''}`))));
    if (!items.length) list.append(h('li', { class: 'muted' }, 'You are in no group yet. Start one below, or open an invitation link someone sent you.'));
  };

  const name = field('Name', h('input', { name: 'name', required: true, maxLength: 100 }));
  const description = field('Description', h('textarea', { name: 'description', rows: 3 }), 'What the group reads and why.');
  const rules = field('Ground rules', h('textarea', { name: 'rules', rows: 4 }),
    'Shown to everyone before they join; joining means accepting them.');
  const open = h('input', { type: 'checkbox', name: 'open' });
  const form = h('form', { class: 'card', style: 'max-width: 36rem' },
    h('h2', { id: 'new-title' }, 'Start a group'), name.wrap, description.wrap, rules.wrap,
    h('label', { class: 'choice' }, open, 'Open: any signed-in reader may join without an invitation'),
    h('p', { class: 'hint' }, 'Invite-only is the default: members join through links you share.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create group')));
  form.setAttribute('aria-labelledby', 'new-title');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const group = await busy(form, () => api('/api/groups', {
        method: 'POST',
        body: { name: name.input.value, description: description.input.value, rules: rules.input.value, open: open.checked },
      }));
      announce(`Group ${group.name} created.`);
      (await import('../app.js')).navigate(`/groups/${group.id}`);
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  main.append(h('div', { class: 'grid-2' }, mine, form));
  await refresh();
}
