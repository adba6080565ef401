// Highlights painted over the chapter without touching its markup: the CSS Custom Highlight
// API where the browser has it, else boxes drawn under the text from the ranges' rectangles.

import { rangeOf } from './text.js';

export const COLORS = ['yellow', 'green', 'blue', 'pink', 'purple', 'orange'];
const NAMES = [...COLORS.map((c) => `scholia-${c}`), 'scholia-note', 'scholia-search'];
const FALLBACK = {
  yellow: 'rgba(255,214,0,.42)', green: 'rgba(90,200,90,.35)', blue: 'rgba(80,150,255,.33)',
  pink: 'rgba(255,110,170,.33)', purple: 'rgba(170,110,255,.33)', orange: 'rgba(255,150,50,.38)',
  note: 'rgba(182,134,44,.25)', search: 'rgba(255,150,50,.5)',
};

const supported = typeof CSS !== 'undefined' && 'highlights' in CSS && typeof Highlight === 'function';

/** Paints notes' ranges; `passageById` maps passage ids to their elements. */
export class Painter {
  constructor(overlayParent) {
    this.overlay = null;
    this.ranges = new Map(); // highlight name -> Range[]
    if (!supported) {
      this.overlay = document.createElement('div');
      this.overlay.className = 'highlight-overlay';
      this.overlay.setAttribute('aria-hidden', 'true');
      overlayParent.prepend(this.overlay);
    }
  }

  /** Paints `notes` (annotations) and `search` ({passage, start, end}) ranges. */
  paint(notes, passageById, search = []) {
    const ranges = new Map(NAMES.map((n) => [n, []]));
    for (const note of notes) {
      if (note.deleted || note.reply_to) continue;
      const passage = passageById.get(note.passage_id);
      const range = passage && rangeOf(passage, note.start, note.end);
      if (!range) continue;
      const color = COLORS.includes(note.color) ? note.color : note.color ? 'yellow' : null;
      ranges.get(color ? `scholia-${color}` : 'scholia-note').push(range);
    }
    for (const hit of search) {
      const passage = passageById.get(hit.passage);
      const range = passage && rangeOf(passage, hit.start, hit.end);
      if (range) ranges.get('scholia-search').push(range);
    }
    this.ranges = ranges;
    this.redraw();
  }

  redraw() {
    if (supported) {
      for (const [name, list] of this.ranges) {
        if (list.length) CSS.highlights.set(name, new Highlight(...list));
        else CSS.highlights.delete(name);
      }
      return;
    }
    const base = this.overlay.parentElement.getBoundingClientRect();
    const boxes = [];
    for (const [name, list] of this.ranges) {
      const colour = FALLBACK[name.slice('scholia-'.length)];
      for (const range of list) {
        for (const r of range.getClientRects()) {
          const box = document.createElement('div');
          box.style.cssText = `position:absolute;left:${r.left - base.left}px;top:${r.top - base.top}px;` +
            `width:${r.width}px;height:${r.height}px;background:${colour};pointer-events:none`;
          boxes.push(box);
        }
      }
    }
    this.overlay.replaceChildren(...boxes);
  }

  clear() {
    if (supported) for (const name of NAMES) CSS.highlights.delete(name);
    this.overlay?.remove();
  }
}
