// `/account`: margin preferences, mutes, API tokens, export, deleting the account; for
// admins, the users and their roles.

import { api, me, setMe, announce } from '../api.js';
import { h, field, busy, pageHeading, formatDate } from './dom.js';
import { signInForms } from './signin.js';

const MARGINS = [
  ['none', 'None', 'Clean margins: only your own notes.'],
  ['groups', 'My groups', 'Your notes and those shared with your groups.'],
  ['everyone', 'Everyone', 'Also public notes by any reader.'],
];

function radios(name, options, value) {
  return options.map(([v, label, hint]) => {
    const input = h('input', { type: 'radio', name, value: v, checked: v === value });
    return { input, el: h('div', { class: 'choice' }, h('label', {}, input, label), hint ? h('p', { class: 'hint' }, hint) : null) };
  });
}

async function preferences() {
  const prefs = await api('/api/me/preferences');
  const margin = radios('margin', MARGINS, prefs.margin);
  const first = h('input', { type: 'checkbox', checked: prefs.my_reading_first });
  const form = h('form', { class: 'card' },
    h('h2', { id: 'prefs-title' }, 'Margin'),
    h('fieldset', {}, h('legend', {}, 'Show marginalia in every book'), margin.map((r) => r.el)),
    h('label', { class: 'choice' }, first, 'My reading first'),
    h('p', { class: 'hint' }, 'Others’ notes on a passage wait until you have written your own there, or revealed them.'),
    h('p', { class: 'hint' }, 'A book can have its own choice, set in the reader.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save preferences')));
  form.setAttribute('aria-labelledby', 'prefs-title');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await busy(form, () => api('/api/me/preferences', {
        method: 'PUT', body: { margin: margin.find((r) => r.input.checked).input.value, my_reading_first: first.checked },
      }));
      announce('Preferences saved.');
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  return form;
}

// Someone muted whose notes one no longer reads goes unnamed (the list must not tell who they
// are); several such get a number, so that each Unmute button has its own name.
function mutedPerson(mute, unnamed, count) {
  if (mute.display_name !== null) {
    return { label: mute.display_name, button: `Unmute ${mute.display_name}`, done: `${mute.display_name} unmuted: their notes show again.` };
  }
  const who = count === 1 ? 'a reader whose notes you no longer see' : `reader ${unnamed} whose notes you no longer see`;
  return {
    label: h('span', { class: 'muted' }, who[0].toUpperCase() + who.slice(1)),
    button: 'Unmute',
    ariaLabel: `Unmute ${who}`,
    done: 'Unmuted: should you see their notes again, they will show.',
  };
}

async function mutes() {
  const section = h('section', { class: 'card', 'aria-labelledby': 'mutes-title' }, h('h2', { id: 'mutes-title' }, 'Muted people'));
  const list = h('ul', { class: 'plain' });
  const refresh = async () => {
    const { items } = await api('/api/me/mutes');
    const count = items.filter((m) => m.display_name === null).length;
    let unnamed = 0;
    list.replaceChildren(...items.map((m) => {
      const person = mutedPerson(m, m.display_name === null ? ++unnamed : 0, count);
      return h('li', {}, person.label, ' ', h('button', {
        type: 'button',
        class: 'quiet',
        'aria-label': person.ariaLabel,
        onclick: async () => {
          try {
            await api(`/api/me/mutes/${m.user_id}`, { method: 'DELETE' });
            announce(person.done);
            await refresh();
          } catch (err) {
            announce(err.message, { assertive: true });
          }
        },
      }, person.button));
    }));
    if (!items.length) list.append(h('li', { class: 'muted' }, 'Nobody. Mute a person from any of their notes in the margin.'));
  };
  section.append(list);
  await refresh();
  return section;
}

async function tokens() {
  const section = h('section', { class: 'card', 'aria-labelledby': 'tokens-title' }, h('h2', { id: 'tokens-title' }, 'API tokens'),
    h('p', { class: 'hint' }, 'For scripts: send a token as “Authorization: Bearer …”. It acts as you, so keep it secret.'));
  const list = h('ul', { class: 'plain' });
  const fresh = h('div', { role: 'status' });
  const refresh = async () => {
    const { items } = await api('/api/me/tokens');
    list.replaceChildren(...items.map((t) => h('li', {}, h('strong', {}, t.name), ' ', h('span', { class: 'muted' }, `created ${formatDate(t.created)} `),
      h('button', {
        type: 'button',
        class: 'quiet',
        onclick: async () => {
          try {
            await api(`/api/me/tokens/${t.id}`, { method: 'DELETE' });
            announce(`Token ${t.name} revoked.`);
            await refresh();
          } catch (err) {
            announce(err.message, { assertive: true });
          }
        },
      }, `Revoke ${t.name}`))));
  };
  const name = field('Token name', h('input', { required: true, maxLength: 100, placeholder: 'e.g. export script' }));
  const form = h('form', {}, name.wrap, h('button', { type: 'submit' }, 'Create token'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const { token } = await busy(form, () => api('/api/me/tokens', { method: 'POST', body: { name: name.input.value } }));
      fresh.replaceChildren(h('p', { class: 'notice' }, 'Copy it now; it is not shown again: ', h('code', { class: 'token' }, token)));
      name.input.value = '';
      await refresh();
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  section.append(list, form, fresh);
  await refresh();
  return section;
}

function exportNotes() {
  const button = h('button', { type: 'button' }, 'Export my notes');
  const out = h('p');
  button.addEventListener('click', async () => {
    try {
      const data = await api('/api/me/export');
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      const a = h('a', { href: URL.createObjectURL(blob), download: 'scholia-notes.json' }, 'Download scholia-notes.json');
      out.replaceChildren(a);
      const count = (data.books ?? []).reduce((n, b) => n + b.annotations.length, 0);
      announce(`Export ready: ${count} notes. Use the download link.`);
      a.focus();
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'export-title' }, h('h2', { id: 'export-title' }, 'Export'),
    h('p', { class: 'hint' }, 'Every note you wrote, on every book you can still read, as JSON.'), button, out);
}

function deleteAccount() {
  const pass = field('Password', h('input', { type: 'password', autocomplete: 'current-password', required: true }), 'To confirm it is you.');
  const shared = radios('shared_notes', [
    ['anonymize', 'Keep my shared notes, without my name', 'Notes shared with groups or everyone stay, signed “Anonymous”.'],
    ['delete', 'Delete my shared notes too', 'Where others replied, an empty placeholder keeps their replies in place.'],
  ], 'anonymize');
  const form = h('form', { class: 'card danger-zone', 'aria-labelledby': 'delete-title' },
    h('h2', { id: 'delete-title' }, 'Delete my account'),
    h('p', { class: 'hint' }, 'Your private notes, tokens, memberships and preferences are deleted. This cannot be undone.'),
    h('fieldset', {}, h('legend', {}, 'My shared notes'), shared.map((r) => r.el)), pass.wrap,
    h('button', { type: 'submit', class: 'danger' }, 'Delete my account'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await busy(form, () => api('/api/me', {
        method: 'DELETE', body: { password: pass.input.value, shared_notes: shared.find((r) => r.input.checked).input.value },
      }));
      setMe(null);
      announce('Your account is deleted.');
      (await import('../app.js')).navigate('/', { replace: true });
    } catch (err) {
      announce(err.message, { assertive: true });
    }
  });
  return form;
}

async function users(self) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'users-title' }, h('h2', { id: 'users-title' }, 'People and roles'),
    h('p', { class: 'hint' }, 'Librarians upload books and manage access; administrators also give roles.'));
  const body = h('tbody');
  section.append(h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, h('th', {}, 'Display name'), h('th', {}, 'Username'), h('th', {}, 'Role'))), body)));
  let cursor = null;
  do {
    const page = await api(`/api/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const u of page.items) {
      const select = h('select', { 'aria-label': `Role of ${u.display_name}`, disabled: u.id === self.id },
        [['reader', 'Reader'], ['librarian', 'Librarian'], ['admin', 'Administrator']]
          .map(([v, t]) => h('option', { value: v, selected: v === u.role }, t)));
      select.addEventListener('change', async () => {
        const previous = u.role;
        try {
          await api(`/api/users/${u.id}`, { method: 'PATCH', body: { role: select.value } });
          u.role = select.value;
          announce(`${u.display_name} is now ${select.selectedOptions[0].textContent.toLowerCase()}.`);
        } catch (err) {
          select.value = previous;
          announce(err.message, { assertive: true });
        }
      });
      body.append(h('tr', {}, h('td', {}, u.display_name), h('td', {}, h('code', {}, u.username)), h('td', {}, select)));
    }
    cursor = page.next_cursor;
  } while (cursor);
  return section;
}

export async function mount(main) {
  main.append(pageHeading('Account'));
  const user = await me();
  if (!user) {
    main.append(signInForms(() => import('../app.js').then((m) => m.render({ focus: true }))));
    return;
  }
  main.append(h('p', { class: 'muted' }, `Signed in as ${user.display_name} (${user.username}), ${user.role}.`));
  const grid = h('div', { class: 'grid-2' }, await preferences(), await mutes(), await tokens(), exportNotes());
  main.append(grid);
  if (user.role === 'admin') {
    const slot = h('div', { style: 'margin-top: 1.5rem' });
    main.append(slot);
    try {
      slot.append(await users(user));
    } catch (e) {
      slot.append(h('p', { class: 'notice' }, `The list of people could not be loaded: ${e.message}`));
    }
  }
  main.append(h('div', { style: 'margin-top: 1.5rem; max-width: 36rem' }, deleteAccount()));
}
