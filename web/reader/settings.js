// Display settings: font size, line width and theme, kept in this browser (they depend on
// the screen more than on the reader).

const KEY = 'scholia.reader';
const SIZES = [0.875, 1, 1.125, 1.25, 1.375, 1.5, 1.75, 2];
const WIDTHS = [['narrow', 'Narrow', '32em'], ['medium', 'Medium', '38em'], ['wide', 'Wide', '46em']];
const THEMES = [['auto', 'As the system'], ['light', 'Light'], ['sepia', 'Sepia'], ['dark', 'Dark']];

function load() {
  try {
    return { size: 2, width: 'medium', theme: 'auto', ...JSON.parse(localStorage.getItem(KEY) || '{}') };
  } catch {
    return { size: 2, width: 'medium', theme: 'auto' };
  }
}

/** Applies the saved settings to the reader's root element and the page's theme. */
export function applySettings(main, settings = load()) {
  const size = SIZES[Math.max(0, Math.min(SIZES.length - 1, settings.size))];
  main.style.setProperty('--reader-font-size', `${size}rem`);
  const width = WIDTHS.find(([w]) => w === settings.width) ?? WIDTHS[1];
  main.style.setProperty('--reader-measure', width[2]);
  if (settings.theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = settings.theme;
}

/**
 * The controls, in `parent`; `changed()` runs after each change (the layout moved). `fixed`:
 * the book's pages have a fixed layout, so text size and line width do not apply to them.
 */
export function mountSettings(parent, main, changed, { fixed = false } = {}) {
  const settings = load();
  const save = () => {
    localStorage.setItem(KEY, JSON.stringify(settings));
    applySettings(main, settings);
    changed();
  };
  const sizeRow = document.createElement('div');
  sizeRow.className = 'row font-size';
  const label = document.createElement('span');
  label.id = 'font-size-label';
  const status = () => {
    label.textContent = `Font size ${Math.round(SIZES[settings.size] / 1.125 * 100)}%`;
  };
  const step = (text, delta) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.setAttribute('aria-describedby', 'font-size-label');
    b.addEventListener('click', () => {
      settings.size = Math.max(0, Math.min(SIZES.length - 1, settings.size + delta));
      status();
      save();
    });
    return b;
  };
  status();
  sizeRow.append(step('Smaller text', -1), label, step('Larger text', 1));
  const width = select('Line width', WIDTHS, settings.width, (v) => { settings.width = v; save(); });
  if (fixed) {
    const note = document.createElement('p');
    note.id = 'fixed-layout-note';
    note.className = 'hint';
    note.textContent = 'This book’s pages have a fixed layout: each page is shown whole, scaled to fit, so text size and line width do not apply.';
    for (const control of [...sizeRow.querySelectorAll('button'), width.querySelector('select')]) {
      control.disabled = true;
      control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') ?? ''} fixed-layout-note`.trim());
    }
    parent.append(note);
  }
  parent.append(sizeRow, width,
    select('Theme', THEMES, settings.theme, (v) => { settings.theme = v; save(); }));
}

function select(text, options, value, onChange) {
  const id = `reader-${text.toLowerCase().replace(/\W+/g, '-')}`;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = text;
  const s = document.createElement('select');
  s.id = id;
  for (const [v, name] of options) {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = name;
    s.append(o);
  }
  s.value = value;
  s.addEventListener('change', () => onChange(s.value));
  const row = document.createElement('div');
  row.className = 'row';
  row.append(label, s);
  return row;
}
