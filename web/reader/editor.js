// The note editor: `Note` (Markdown), `Audience` (Private, each of my groups, Public), tags,
// `Save`. One modal dialog serves new notes, whole passages, replies and edits.

let dialog = null;

function build() {
  dialog = document.createElement('dialog');
  dialog.className = 'note-editor';
  dialog.setAttribute('aria-labelledby', 'note-editor-title');
  dialog.innerHTML = `
    <form method="dialog" class="stack">
      <h2 id="note-editor-title"></h2>
      <div class="part-row" hidden>
        <label for="note-part">Quote</label>
        <select id="note-part" name="part"></select>
      </div>
      <blockquote class="quote"></blockquote>
      <label for="note-body">Note</label>
      <textarea id="note-body" name="body" rows="6" aria-describedby="note-body-help"></textarea>
      <p id="note-body-help" class="hint">Markdown: *emphasis*, **strong**, [links](https://…), lists.</p>
      <label for="note-audience">Audience</label>
      <select id="note-audience" name="audience"></select>
      <p class="hint audience-hint"></p>
      <label for="note-tags">Tags</label>
      <input id="note-tags" name="tags" autocomplete="off" aria-describedby="note-tags-help">
      <p id="note-tags-help" class="hint">Separate tags with commas.</p>
      <p class="editor-error" role="alert"></p>
      <div class="actions">
        <button type="button" class="cancel">Cancel</button>
        <button type="submit" class="primary">Save</button>
      </div>
    </form>`;
  document.body.append(dialog);
}

function audienceValue(audience) {
  if (audience && typeof audience === 'object') return `group:${audience.group}`;
  return audience || 'private';
}

function parseAudience(value) {
  return value.startsWith('group:') ? { group: value.slice('group:'.length) } : value;
}

/**
 * Opens the editor; resolves with what `save` returns once it succeeds (it gets {body,
 * audience, tags, part}, and may throw an ApiError: its message is shown and the dialog stays
 * open), or null on cancel. `groups` are mine ({id, name}); `allowed(value)` narrows the
 * audiences (replies); `parts` ([{label, quote}]), when given, offers what to quote (the whole
 * passage or one of its sentences) and `part` is the index chosen.
 */
export function openEditor({ title, quote, parts = null, body = '', audience = 'private', tags = [], groups, allowed = () => true, save }) {
  if (!dialog) build();
  const form = dialog.querySelector('form');
  const partRow = form.querySelector('.part-row');
  const partSelect = form.querySelector('#note-part');
  partRow.hidden = !parts;
  partSelect.replaceChildren(...(parts ?? []).map((part, i) => {
    const option = document.createElement('option');
    option.value = String(i);
    option.textContent = part.label;
    return option;
  }));
  partSelect.onchange = () => {
    dialog.querySelector('.quote').textContent = parts[Number(partSelect.value)].quote;
  };
  const select = form.querySelector('#note-audience');
  const hint = form.querySelector('.audience-hint');
  const error = form.querySelector('.editor-error');
  dialog.querySelector('h2').textContent = title;
  const quoteEl = dialog.querySelector('.quote');
  quoteEl.textContent = quote || '';
  quoteEl.hidden = !quote;
  form.body.value = body;
  form.tags.value = tags.join(', ');
  error.textContent = '';
  const options = [['private', 'Private'], ...groups.map((g) => [`group:${g.id}`, g.name]), ['public', 'Public']];
  select.replaceChildren(...options.filter(([value]) => allowed(value)).map(([value, label]) => {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = label;
    return option;
  }));
  select.value = audienceValue(audience);
  if (!select.value) select.selectedIndex = 0;
  const describe = () => {
    const value = select.value;
    hint.textContent = value === 'private' ? 'Only you will read this.'
      : value === 'public' ? 'Every reader of this book who shows everyone’s marginalia may read this.'
        : `Members of ${select.selectedOptions[0]?.textContent} may read this.`;
  };
  select.onchange = describe;
  describe();

  return new Promise((resolve) => {
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      form.onsubmit = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    form.querySelector('.cancel').onclick = () => finish(null);
    dialog.onclose = () => finish(null);
    form.onsubmit = async (e) => {
      e.preventDefault();
      const value = {
        body: form.body.value,
        audience: parseAudience(select.value),
        tags: form.tags.value.split(',').map((t) => t.trim()).filter(Boolean),
        part: parts ? Number(partSelect.value) : null,
      };
      const saveButton = form.querySelector('[type=submit]');
      saveButton.disabled = true;
      error.textContent = '';
      try {
        const result = await save(value);
        finish(result);
      } catch (err) {
        error.textContent = err.message;
      } finally {
        saveButton.disabled = false;
      }
    };
    dialog.showModal();
    form.body.focus();
  });
}

/**
 * A small modal question: `message`, an optional text `field` label, and a `submit` button;
 * resolves with the field's text (or true) once `act` succeeds, or null on cancel.
 */
export function ask({ title, message = '', field = null, submit, act }) {
  const box = document.createElement('dialog');
  box.className = 'ask';
  box.setAttribute('aria-labelledby', 'ask-title');
  box.innerHTML = `<form method="dialog" class="stack"><h2 id="ask-title"></h2><p class="message"></p>
    <p class="editor-error" role="alert"></p>
    <div class="actions"><button type="button" class="cancel">Cancel</button>
    <button type="submit" class="primary"></button></div></form>`;
  const form = box.querySelector('form');
  box.querySelector('h2').textContent = title;
  box.querySelector('.message').textContent = message;
  box.querySelector('[type=submit]').textContent = submit;
  let input = null;
  if (field) {
    const label = document.createElement('label');
    label.htmlFor = 'ask-field';
    label.textContent = field;
    input = document.createElement('textarea');
    input.id = 'ask-field';
    input.rows = 3;
    input.required = true;
    box.querySelector('.message').after(label, input);
  }
  document.body.append(box);
  return new Promise((resolve) => {
    const finish = (value) => {
      box.onclose = null;
      if (box.open) box.close();
      box.remove();
      resolve(value);
    };
    box.onclose = () => finish(null);
    form.querySelector('.cancel').onclick = () => finish(null);
    form.onsubmit = async (e) => {
      e.preventDefault();
      const value = input ? input.value.trim() : true;
      try {
        await act(value);
        finish(value);
      } catch (err) {
        box.querySelector('.editor-error').textContent = err.message;
      }
    };
    box.showModal();
    (input ?? form.querySelector('[type=submit]')).focus();
  });
}
