// The `Annotate` toolbar: offered when text in a passage is selected, with a colour, a
// `Highlight` button and `Add note`. The selection is read from the chapter's shadow root.

import { anchorOf } from './text.js';
import { COLORS } from './highlights.js';

/** The current selection inside `root`: {passage, start, end, exact, rect} or null. */
export function selectedAnchor(root) {
  const selection = document.getSelection();
  if (!selection || !selection.rangeCount) return null;
  // The document's own view of a selection in a shadow tree is moved out to the host;
  // composed ranges (or, before them, the shadow root's selection) keep the real nodes.
  let range;
  if (selection.getComposedRanges) {
    [range] = selection.getComposedRanges({ shadowRoots: [root] });
  } else {
    range = (root.getSelection?.() ?? selection).getRangeAt(0);
  }
  if (!range || range.collapsed) return null;
  const start = range.startContainer;
  const element = start.nodeType === 1 ? start : start.parentElement;
  const passage = element?.closest?.('[data-passage]');
  if (!passage || passage.getRootNode() !== root) return null;
  // A selection across passages anchors in the passage it starts in, up to that passage's end.
  const anchor = anchorOf(passage, range);
  if (!anchor) return null;
  const live = document.createRange();
  live.setStart(range.startContainer, range.startOffset);
  live.setEnd(range.endContainer, range.endOffset);
  return { passage, ...anchor, rect: live.getBoundingClientRect() };
}

export class Toolbar {
  /** `actions`: {highlight(anchor, color), note(anchor, color)}. */
  constructor(parent, actions) {
    this.anchor = null;
    this.color = localStorage.getItem('scholia.color') || 'yellow';
    const bar = document.createElement('div');
    bar.className = 'annotate-toolbar';
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', 'Annotate');
    bar.hidden = true;
    const swatches = document.createElement('div');
    swatches.className = 'swatches';
    this.swatches = COLORS.map((color) => {
      const b = button('', `swatch swatch-${color}`);
      b.setAttribute('aria-label', color[0].toUpperCase() + color.slice(1));
      b.setAttribute('aria-pressed', String(color === this.color));
      b.addEventListener('click', () => this.pick(color));
      swatches.append(b);
      return [color, b];
    });
    const highlight = button('Highlight');
    highlight.addEventListener('click', () => this.act(actions.highlight));
    const note = button('Add note', 'primary');
    note.addEventListener('click', () => this.act(actions.note));
    bar.append(swatches, highlight, note);
    // Pressing a button must not drop the selection it acts on.
    bar.addEventListener('mousedown', (e) => e.preventDefault());
    bar.addEventListener('keydown', (e) => this.keydown(e));
    parent.append(bar);
    this.bar = bar;
  }

  pick(color) {
    this.color = color;
    localStorage.setItem('scholia.color', color);
    for (const [c, b] of this.swatches) b.setAttribute('aria-pressed', String(c === color));
  }

  act(action) {
    const anchor = this.anchor;
    if (!anchor) return;
    this.hide();
    action(anchor, this.color);
  }

  /** Shows the toolbar for `anchor` beside `rect` (a client rectangle of the selection). */
  show(anchor, rect) {
    this.anchor = anchor;
    this.bar.hidden = false;
    const width = this.bar.offsetWidth;
    const left = Math.max(8, Math.min(window.innerWidth - width - 8, rect.left + rect.width / 2 - width / 2));
    const above = rect.top - this.bar.offsetHeight - 10;
    const top = above > 8 ? above : rect.bottom + 10;
    this.bar.style.left = `${left}px`;
    this.bar.style.top = `${top}px`;
  }

  hide() {
    this.anchor = null;
    this.bar.hidden = true;
  }

  get visible() {
    return !this.bar.hidden;
  }

  // A toolbar's buttons answer the arrow keys (ARIA toolbar pattern); Tab reaches them too.
  keydown(e) {
    const buttons = [...this.bar.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const next = (i + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length;
      buttons[next].focus();
    } else if (e.key === 'Escape') {
      this.hide();
    }
  }
}

export function button(text, className = '') {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (className) b.className = className;
  return b;
}
