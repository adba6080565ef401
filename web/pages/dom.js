// Small helpers the pages share to build their DOM without innerHTML (text stays text).

// h('button', {type: 'button', onclick: f, class: 'x'}, 'Text', child...)
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof el[key] !== 'function' && !key.includes('-')) el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

let fieldId = 0;

// A labelled form field: h('label') + control, with ids linked; returns {wrap, input}.
export function field(label, control, hint) {
  const id = control.id || `f${++fieldId}`;
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const wrap = h('div', { class: 'field' }, h('label', { htmlFor: id }, label), control, hintEl);
  return { wrap, input: control };
}

// Sets the page's title (the tab) and returns the h1 the shell focuses after navigation.
export function pageHeading(text) {
  document.title = `${text} · Scholia`;
  return h('h1', {}, text);
}

// Runs an async action for a form: disables its submit button meanwhile and shows the API's
// message (in the form and through the live region) when it fails.
export async function busy(form, action) {
  const buttons = form.querySelectorAll('button');
  const error = form.querySelector('.form-error') ?? form.appendChild(h('p', { class: 'form-error', role: 'alert' }));
  error.textContent = '';
  buttons.forEach((b) => { b.disabled = true; });
  try {
    return await action();
  } catch (e) {
    error.textContent = e.message;
    throw e;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

export function formatDate(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
