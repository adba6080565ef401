// `/groups/{id}`: one group: what changed since one joined, what it is, its rules, its members,
// invitations, the report queue for its moderators, and leaving with the choice of what happens
// to one's notes.

import { api, me, announce } from '../api.js';
import { h, field, busy, pageHeading, formatDate } from './dom.js';
import { signInForms } from './signin.js';

const ROLE = { owner: 'Owner', facilitator: 'Facilitator', member: 'Member' };

const LEAVE = [
  ['keep', 'Keep', 'Your notes stay in the group under your name. Members keep reading them; you can still edit or delete each one.'],
  ['anonymize', 'Anonymize', 'Your notes stay in the group, signed “Anonymous”. Nobody can tell they were yours; you can still edit or delete them.'],
  ['withdraw', 'Withdraw', 'Your notes leave the group and become private: only you can read them. Replies others wrote under them disappear with them from the margins.'],
];

const CHANGE = { rules: 'Ground rules changed', opened: 'Now open to every reader', closed: 'Invite-only again' };

// Changes of rules or openness since the member joined, each shown until they dismiss it: nobody
// should go on writing under rules they did not accept. Resolves to null when there are none.
function notices(group, heading) {
  if (!group.notices?.length) return null;
  const list = h('ul', { class: 'plain' });
  const section = h('section', { class: 'notices', 'aria-labelledby': 'notices-title' },
    h('h2', { id: 'notices-title' }, 'Changes since you joined'), list);
  for (const n of group.notices) {
    const title = `${CHANGE[n.kind] ?? 'Changed'}, ${formatDate(n.created)}`;
    const dismiss = h('button', { type: 'button', 'aria-label': `Dismiss: ${title}` }, 'Dismiss');
    const item = h('li', {}, h('article', { class: 'notice', 'aria-label': title },
      h('h3', {}, CHANGE[n.kind] ?? 'Changed', ' ', h('time', { datetime: n.created, class: 'muted' }, formatDate(n.created))),
      h('p', {}, n.message),
      n.kind === 'rules' ? h('p', {}, h('strong', {}, 'The ground rules now: '), n.rules || 'none written.') : null,
      dismiss));
    dismiss.addEventListener('click', async () => {
      try {
        await api(`/api/groups/${group.id}/notices/${encodeURIComponent(n.id)}/dismiss`, { method: 'POST' });
        const next = item.nextElementSibling ?? item.previousElementSibling;
        item.remove();
        announce('Notice dismissed.');
        if (next) {
          next.querySelector('button').focus();
        } else {
          section.remove();
          heading.setAttribute('tabindex', '-1');
          heading.focus();
        }
      } catch (err) {
        announce(err.message, { assertive: true });
      }
    });
    list.append(item);
  }
  return section;
}

function about(group, canEdit, onSaved) {
  const section = h('section', { 'aria-labelledby': 'about-title' }, h('h2', { id: 'about-title' }, 'About'));
  const show = () => {
    section.replaceChildren(h('h2', { id: 'about-title' }, 'About'),
      group.description ? h('p', { class: 'prose' }, group.description) : h('p', { class: 'muted' }, 'No description.'),
      h('h3', {}, 'Ground rules'),
      group.rules ? h('p', { class: 'prose' }, group.rules) : h('p', { class: 'muted' }, 'No ground rules written.'),
      h('p', { class: 'muted' }, group.open ? 'Open: any signed-in reader may join.' : 'Invite-only: people join through invitation links.'),
      canEdit ? h('button', { type: 'button', onclick: edit }, 'Edit group') : null);
  };
  const edit = () => {
    const name = field('Name', h('input', { value: group.name, required: true, maxLength: 100 }));
    const description = field('Description', h('textarea', { rows: 3, value: group.description ?? '' }));
    const rules = field('Ground rules', h('textarea', { rows: 4, value: group.rules ?? '' }),
      'Members see that the rules changed; new members accept them before joining.');
    const open = h('input', { type: 'checkbox', checked: group.open });
    const form = h('form', {}, name.wrap, description.wrap, rules.wrap,
      group.role === 'owner' ? h('label', { class: 'choice' }, open, 'Open: any signed-in reader may join') : null,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save group'),
        h('button', { type: 'button', onclick: show }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { name: name.input.value, description: description.input.value, rules: rules.input.value };
      if (group.role === 'owner') body.open = open.checked;
      try {
        const saved = await busy(form, () => api(`/api/groups/${group.id}`, { method: 'PATCH', body }));
        Object.assign(group, saved ?? body);
        announce('Group saved.');
        onSaved();
        show();
      } catch (err) {
        announce(err.message, { assertive: true });
      }
    });
    section.replaceChildren(h('h2', { id: 'about-title' }, 'About'), form);
    name.input.focus();
  };
  show();
  return section;
}

async function members(group, user) {
  const { items } = await api(`/api/groups/${group.id}/members`);
  const list = h('ul', { class: 'plain' });
  for (const m of items) {
    const li = h('li', {}, h('span', {}, m.display_name), ' ', h('span', { class: 'badge' }, ROLE[m.role] ?? m.role));
    if (group.role === 'owner' && m.role !== 'owner' && m.user_id !== user.id) {
      const to = m.role === 'facilitator' ? 'member' : 'facilitator';
      li.append(' ', h('button', {
        type: 'button',
        class: 'quiet',
        onclick: async () => {
          try {
            await api(`/api/groups/${group.id}/members/${m.user_id}`, { method: 'PATCH', body: { role: to } });
            m.role = to;
            announce(`${m.display_name} is now ${to === 'facilitator' ? 'a facilitator' : 'a member'}.`);
            list.replaceWith(await members(group, user));
          } catch (err) {
            announce(err.message, { assertive: true });
          }
        },
      }, to === 'facilitator' ? `Make ${m.display_name} facilitator` : `Make ${m.display_name} member`),
      ' ', handOver(group, m));
    }
    list.append(li);
  }
  return list;
}

// The owner passes the group on (and may then leave it); they stay as a facilitator.
function handOver(group, member) {
  const slot = h('span');
  const ask = h('button', { type: 'button', class: 'quiet' }, `Make ${member.display_name} owner`);
  ask.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'danger' }, `Hand ${group.name} to ${member.display_name}`);
    yes.addEventListener('click', async () => {
      try {
        await api(`/api/groups/${group.id}/transfer`, { method: 'POST', body: { user_id: member.user_id } });
        announce(`${member.display_name} owns ${group.name} now; you stay as a facilitator.`);
        (await import('../app.js')).render();
      } catch (err) {
        announce(err.message, { assertive: true });
      }
    });
    slot.replaceChildren(h('span', { class: 'hint' }, ' You stay as a facilitator. '), yes, ' ',
      h('button', { type: 'button', onclick: () => slot.replaceChildren(ask) }, 'Cancel'));
    yes.focus();
  });
  slot.append(ask);
  return slot;
}

function invitations(group) {
  const out = h('div');
  const link = (code) => `${location.origin}/join/${encodeURIComponent(code)}`;
  const copyRow = (code) => {
    const input = h('input', { readOnly: true, value: link(code), 'aria-label': 'Invitation link' });
    const copy = h('button', { type: 'button' }, 'Copy link');
    copy.addEventListener('click', async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        announce('Invitation link copied.');
      } catch {
        announce('Press Ctrl+C to copy the selected link.');
      }
    });
    return h('div', { class: 'copy-row' }, input, copy);
  };
  const list = h('ul', { class: 'plain' });
  const refresh = async () => {
    const { items } = await api(`/api/groups/${group.id}/invites`);
    list.replaceChildren(...items.filter((i) => !i.revoked).map((i) => h('li', {}, copyRow(i.code),
      h('p', { class: 'hint' }, i.expires ? `Expires ${formatDate(i.expires)}` : 'Does not expire',
        `; used ${i.uses === 1 ? 'once' : `${i.uses} times`}${i.max_uses ? ` (at most ${i.max_uses})` : ''}. `,
        h('button', {
          type: 'button',
          class: 'quiet',
          onclick: async () => {
            try {
              await api(`/api/groups/${group.id}/invites/${encodeURIComponent(i.code)}`, { method: 'DELETE' });
              announce('Invitation revoked: the link no longer works.');
              await refresh();
            } catch (err) {
              announce(err.message, { assertive: true });
            }
          },
        }, 'Revoke')))));
  };
  const create = h('button', { type: 'button', class: 'primary' }, 'Create invitation link');
  create.addEventListener('click', async () => {
    try {
      await api(`/api/groups/${group.id}/invites`, { method: 'POST', body: {} });
      await refresh();
      announce('Invitation link created. It works for a week.');
      list.querySelector('input')?.focus();
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  out.append(h('p', { class: 'hint' }, 'Whoever has a link sees the group and its rules, and can join after accepting them.'), create, list);
  refresh().catch((e) => announce(e.message, { assertive: true }));
  return out;
}

async function reportQueue(group) {
  const { items } = await api('/api/reports?limit=100');
  const here = items.filter((r) => r.annotation?.audience?.group === group.id);
  if (!here.length) return h('p', { class: 'muted' }, 'No open reports. Reports on notes in this group appear here.');
  return h('ul', { class: 'plain' }, here.map((r) => {
    const note = r.annotation;
    let hidden = note.hidden;
    const toggle = h('button', { type: 'button' });
    const label = () => {
      toggle.textContent = hidden ? 'Unhide note' : 'Hide note';
    };
    label();
    toggle.addEventListener('click', async () => {
      try {
        await api(`/api/annotations/${note.id}/hide`, { method: 'POST', body: { hidden: !hidden } });
        hidden = !hidden;
        label();
        announce(hidden ? 'Note hidden from the group; its author still sees it.' : 'Note shown again.');
      } catch (err) {
        announce(err.message, { assertive: true });
      }
    });
    return h('li', {}, h('article', { 'aria-label': `Report by ${r.reporter.display_name}` },
      h('blockquote', { class: 'prose' }, note.body || note.exact),
      h('p', { class: 'hint' }, `By ${note.author.display_name}, on “${note.exact}”`),
      h('p', {}, h('strong', {}, 'Reason: '), r.reason),
      h('p', { class: 'hint' }, `Reported by ${r.reporter.display_name}, ${formatDate(r.created)}`),
      toggle));
  }));
}

function leaveForm(group) {
  const radios = LEAVE.map(([value]) => h('input', { type: 'radio', name: 'notes', value, checked: value === 'keep' }));
  const form = h('form', { class: 'card' },
    h('fieldset', {}, h('legend', {}, 'Your notes in this group'),
      LEAVE.map(([value, label, hint], i) => h('div', { class: 'choice' },
        h('label', {}, radios[i], label), h('p', { class: 'hint', id: `leave-${value}` }, hint)))),
    h('button', { type: 'submit', class: 'danger' }, 'Leave group'));
  radios.forEach((r) => r.setAttribute('aria-describedby', `leave-${r.value}`));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const notes = radios.find((r) => r.checked).value;
    try {
      await busy(form, () => api(`/api/groups/${group.id}/leave`, { method: 'POST', body: { notes } }));
      announce(`You left ${group.name}.`);
      (await import('../app.js')).navigate('/groups');
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  return form;
}

export async function mount(main, id) {
  const user = await me();
  if (!user) {
    main.append(pageHeading('Study group'),
      signInForms(() => import('../app.js').then((m) => m.render({ focus: true }))));
    return;
  }
  const group = await api(`/api/groups/${encodeURIComponent(id)}`);
  const heading = pageHeading(group.name);
  const moderator = group.role === 'owner' || group.role === 'facilitator';
  main.append(heading, h('p', { class: 'muted' },
    group.role ? `You are ${group.role === 'owner' ? 'its owner' : `a ${group.role}`}. ` : 'You are not a member. ',
    `${group.member_count} ${group.member_count === 1 ? 'member' : 'members'}.`));
  const changes = notices(group, heading);
  if (changes) main.append(changes);
  const left = h('div', {}, about(group, moderator, () => {
    heading.textContent = group.name;
    document.title = `${group.name} · Scholia`;
  }));
  const right = h('div');
  if (group.role) {
    right.append(h('section', { 'aria-labelledby': 'members-title' }, h('h2', { id: 'members-title' }, 'Members'), await members(group, user)));
  }
  if (moderator) {
    left.append(h('section', { 'aria-labelledby': 'invite-title' }, h('h2', { id: 'invite-title' }, 'Invite people'), invitations(group)));
    left.append(h('section', { 'aria-labelledby': 'reports-title' }, h('h2', { id: 'reports-title' }, 'Reports'), await reportQueue(group)));
  }
  if (group.role) {
    right.append(h('section', { 'aria-labelledby': 'leave-title' }, h('h2', { id: 'leave-title' }, 'Leave this group'),
      group.role === 'owner' ? h('p', { class: 'hint' }, 'As the owner, hand the group to another member first (under Members), or it ends when you are its last member.') : null,
      leaveForm(group)));
  } else if (group.open) {
    const join = h('form', {}, h('label', { class: 'choice' }, h('input', { type: 'checkbox', required: true }), 'I accept the ground rules'),
      h('button', { type: 'submit', class: 'primary' }, 'Join group'));
    join.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await busy(join, () => api('/api/groups/join', { method: 'POST', body: { group_id: group.id, accept_rules: true } }));
        announce(`You joined ${group.name}.`);
        (await import('../app.js')).render({ focus: true });
      } catch (err) {
        announce(err.message, { assertive: true });
      }
    });
    right.append(join);
  }
  main.append(h('div', { class: 'grid-2' }, left, right));
}
