// The margin: notes as cards beside their passages, pushed down when they collide, drawn only
// near the viewport so that a chapter with thousands of notes stays smooth. Folded, it shows
// a count per passage; in the drawer (narrow screens) it lists the notes of what is on screen.

import { button } from './toolbar.js';

const GAP = 10;
const SHOWN_PER_PASSAGE = 3;
const OVERSCAN = 900; // pixels above and below the viewport drawn ahead of scrolling

export class Margin {
  /**
   * `layer`: the positioned element cards go in; `actions`: {reply, edit, remove, report,
   * mute, reveal, goTo} taking a note (or a passage id for reveal/goTo).
   */
  constructor(layer, { groups, actions }) {
    this.layer = layer;
    this.groups = new Map(groups.map((g) => [g.id, g.name]));
    this.actions = actions;
    this.notes = [];
    this.byPassage = new Map(); // passage id -> top-level notes
    this.replies = new Map(); // note id -> replies
    this.passages = new Map(); // passage id -> element
    this.order = new Map(); // passage id -> index in the chapter
    this.slots = []; // [{id, top, height}] in passage order, after layout
    this.heights = new Map(); // passage id -> measured height of its card group
    this.rendered = new Map(); // passage id -> element
    this.expanded = new Set();
    this.folded = false;
    this.drawer = false;
    this.aligned = true;
    this.active = null; // {passageId, revealable}
    this.frame = 0;
  }

  setPassages(passages) {
    this.passages = new Map(passages.map((p) => [p.dataset.passage, p]));
    this.order = new Map(passages.map((p, i) => [p.dataset.passage, i]));
  }

  setNotes(notes) {
    this.notes = notes;
    const ids = new Set(notes.map((n) => n.id));
    this.byPassage = new Map();
    this.replies = new Map();
    for (const note of notes) {
      if (note.reply_to && ids.has(note.reply_to)) {
        if (!this.replies.has(note.reply_to)) this.replies.set(note.reply_to, []);
        this.replies.get(note.reply_to).push(note);
      } else {
        if (!this.byPassage.has(note.passage_id)) this.byPassage.set(note.passage_id, []);
        this.byPassage.get(note.passage_id).push(note);
      }
    }
    for (const list of this.byPassage.values()) list.sort((a, b) => a.start - b.start || a.created.localeCompare(b.created));
    for (const list of this.replies.values()) list.sort((a, b) => a.created.localeCompare(b.created));
    this.clearRendered();
    this.layout();
  }

  /** The passage the reader is at: it may offer `Reveal notes` while its notes wait. */
  setActive(passageId, revealable) {
    const previous = this.active?.passageId;
    this.active = passageId ? { passageId, revealable } : null;
    for (const id of [previous, passageId]) {
      if (id && this.rendered.has(id)) {
        this.rendered.get(id).remove();
        this.rendered.delete(id);
        this.heights.delete(id);
      }
    }
    this.layout();
  }

  setMode({ folded = this.folded, drawer = this.drawer, aligned = this.aligned }) {
    this.folded = folded;
    this.drawer = drawer;
    this.aligned = aligned;
    this.clearRendered();
    this.layout();
  }

  count(passageId) {
    const list = this.byPassage.get(passageId) ?? [];
    return list.reduce((n, note) => n + 1 + (this.replies.get(note.id)?.length ?? 0), 0);
  }

  clearRendered() {
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
    this.heights.clear();
  }

  /** Passage ids with something to show, in reading order. */
  slotIds() {
    const ids = [...this.byPassage.keys()].filter((id) => this.passages.has(id));
    const active = this.active;
    if (active?.revealable && !ids.includes(active.passageId)) ids.push(active.passageId);
    return ids.sort((a, b) => this.order.get(a) - this.order.get(b));
  }

  /** Recomputes where each passage's cards go, then draws those near the viewport. */
  layout() {
    const base = this.layer.getBoundingClientRect().top;
    let bottom = 0;
    this.slots = [];
    for (const id of this.slotIds()) {
      const wanted = this.aligned && !this.drawer ? this.passages.get(id).getBoundingClientRect().top - base : bottom;
      const top = Math.max(wanted, bottom);
      const height = this.heights.get(id) ?? this.estimate(id);
      this.slots.push({ id, top, height });
      bottom = top + height + GAP;
    }
    if (!this.drawer) this.layer.style.height = `${bottom}px`;
    this.render();
  }

  estimate(id) {
    if (this.folded) return 32;
    const list = this.byPassage.get(id) ?? [];
    const shown = this.expanded.has(id) ? list.length : Math.min(list.length, SHOWN_PER_PASSAGE);
    return 40 + shown * 110;
  }

  /** Draws the slots near the viewport and forgets the others (called on scroll). */
  render() {
    const visible = new Set(this.visibleSlots().map((s) => s.id));
    for (const [id, el] of this.rendered) {
      if (!visible.has(id)) {
        el.remove();
        this.rendered.delete(id);
      }
    }
    let changed = false;
    for (const slot of this.slots) {
      if (!visible.has(slot.id)) continue;
      let el = this.rendered.get(slot.id);
      if (!el) {
        el = this.drawSlot(slot.id);
        this.rendered.set(slot.id, el);
        this.insertInOrder(el, slot.id);
      }
      if (!this.drawer) el.style.top = `${slot.top}px`;
      const height = el.offsetHeight;
      if (height && height !== this.heights.get(slot.id)) {
        this.heights.set(slot.id, height);
        changed = true;
      }
    }
    if (changed) this.reflow();
  }

  // Heights measured after drawing push later cards down; positions only, no redraw.
  reflow() {
    let bottom = 0;
    const base = this.layer.getBoundingClientRect().top;
    for (const slot of this.slots) {
      const wanted = this.aligned && !this.drawer ? this.passages.get(slot.id).getBoundingClientRect().top - base : bottom;
      slot.top = Math.max(wanted, bottom);
      slot.height = this.heights.get(slot.id) ?? slot.height;
      bottom = slot.top + slot.height + GAP;
      const el = this.rendered.get(slot.id);
      if (el && !this.drawer) el.style.top = `${slot.top}px`;
    }
    if (!this.drawer) this.layer.style.height = `${bottom}px`;
  }

  visibleSlots() {
    if (this.drawer) {
      // The drawer lists the notes of the passages on screen.
      return this.slots.filter((s) => {
        const r = this.passages.get(s.id).getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight;
      });
    }
    const base = this.layer.getBoundingClientRect().top;
    const from = -base - OVERSCAN;
    const to = -base + window.innerHeight + OVERSCAN;
    return this.slots.filter((s) => s.top + s.height >= from && s.top <= to);
  }

  insertInOrder(el, id) {
    const index = this.order.get(id);
    const next = [...this.layer.children].find((c) => this.order.get(c.dataset.for) > index);
    this.layer.insertBefore(el, next ?? null);
  }

  scheduleRender() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  drawSlot(id) {
    const slot = document.createElement('div');
    slot.className = 'passage-notes';
    slot.dataset.for = id;
    const list = this.byPassage.get(id) ?? [];
    if (this.folded) {
      const n = this.count(id);
      const b = button(`${n} ${n === 1 ? 'note' : 'notes'}`, 'count');
      b.addEventListener('click', () => this.actions.unfold(id));
      slot.append(b);
      return slot;
    }
    if (this.active?.passageId === id && this.active.revealable) {
      const wait = document.createElement('div');
      wait.className = 'waiting';
      const p = document.createElement('p');
      p.textContent = 'Others’ notes here wait until you write yours.';
      const reveal = button('Reveal notes', 'quiet');
      reveal.addEventListener('click', () => this.actions.reveal(id));
      wait.append(p, reveal);
      slot.append(wait);
    }
    const shown = this.expanded.has(id) ? list : list.slice(0, SHOWN_PER_PASSAGE);
    for (const note of shown) slot.append(this.card(note, true));
    if (shown.length < list.length) {
      const more = button(`Show all ${list.length} notes`, 'quiet more');
      more.addEventListener('click', () => {
        this.expanded.add(id);
        this.rendered.get(id)?.remove();
        this.rendered.delete(id);
        this.heights.delete(id);
        this.layout();
      });
      slot.append(more);
    }
    return slot;
  }

  audienceLabel(audience) {
    if (audience === 'private') return 'Private';
    if (audience === 'public') return 'Public';
    return this.groups.get(audience?.group) ?? 'Group';
  }

  card(note, topLevel) {
    const article = document.createElement('article');
    article.className = 'note';
    article.dataset.note = note.id;
    article.tabIndex = -1;
    if (note.color) article.dataset.color = note.color;
    const header = document.createElement('header');
    const author = document.createElement('span');
    author.className = 'author';
    if (note.deleted) {
      author.textContent = 'Deleted note';
      header.append(author);
    } else {
      author.textContent = note.mine ? `${note.author.display_name} (you)` : note.author.display_name;
      header.append(author, badge(this.audienceLabel(note.audience), 'audience'));
    }
    if (note.hidden) header.append(badge('Hidden by a moderator', 'state-hidden'));
    if (note.written_blind) header.append(badge('Written blind', 'state-blind'));
    article.append(header);
    if (topLevel && !note.deleted && note.exact) {
      const quote = document.createElement('blockquote');
      quote.className = 'quote';
      quote.textContent = note.exact.length > 140 ? `${note.exact.slice(0, 137)}…` : note.exact;
      article.append(quote);
    }
    const body = document.createElement('div');
    body.className = 'body';
    if (note.deleted) {
      body.textContent = 'This note was deleted; the replies below stay.';
    } else if (note.body_html) {
      body.innerHTML = note.body_html; // rendered and sanitized by the server
    } else if (note.body) {
      body.textContent = note.body;
    } else if (topLevel) {
      body.textContent = 'Highlight';
      body.classList.add('hint');
    }
    article.append(body);
    if (note.tags?.length) {
      const tags = document.createElement('p');
      tags.className = 'tags';
      tags.textContent = note.tags.map((t) => `#${t}`).join(' ');
      article.append(tags);
    }
    if (!note.deleted) article.append(this.noteActions(note));
    const replies = this.replies.get(note.id) ?? [];
    if (replies.length) {
      const thread = document.createElement('div');
      thread.className = 'replies';
      for (const reply of replies) thread.append(this.card(reply, false));
      article.append(thread);
    }
    return article;
  }

  noteActions(note) {
    const footer = document.createElement('div');
    footer.className = 'note-actions';
    const add = (text, action, label) => {
      const b = button(text, 'quiet');
      if (label) b.setAttribute('aria-label', label);
      b.addEventListener('click', () => action(note));
      footer.append(b);
    };
    add('Reply', this.actions.reply);
    if (note.mine) {
      add('Edit', this.actions.edit);
      add('Delete', this.actions.remove);
    } else {
      add('Report', this.actions.report);
      if (note.author.id) add('Mute', this.actions.mute, `Mute ${note.author.display_name}`);
    }
    return footer;
  }

  /** Draws the note's cards and focuses it (after a save, for keyboard users). */
  focusNote(id) {
    const note = this.notes.find((n) => n.id === id);
    if (!note) return false;
    let root = note;
    while (root.reply_to && this.notes.some((n) => n.id === root.reply_to)) {
      root = this.notes.find((n) => n.id === root.reply_to);
    }
    const list = this.byPassage.get(root.passage_id) ?? [];
    if (list.indexOf(root) >= SHOWN_PER_PASSAGE && !this.expanded.has(root.passage_id)) {
      this.expanded.add(root.passage_id);
      this.clearRendered();
      this.layout();
    }
    let el = this.layer.querySelector(`[data-note="${CSS.escape(id)}"]`);
    if (!el) {
      const slot = this.slots.find((s) => s.id === root.passage_id);
      if (!slot) return false;
      const drawn = this.drawSlot(root.passage_id);
      this.rendered.set(root.passage_id, drawn);
      this.insertInOrder(drawn, root.passage_id);
      if (!this.drawer) drawn.style.top = `${slot.top}px`;
      el = this.layer.querySelector(`[data-note="${CSS.escape(id)}"]`);
    }
    el?.focus({ preventScroll: false });
    return Boolean(el);
  }
}

function badge(text, className) {
  const span = document.createElement('span');
  span.className = `badge ${className}`;
  span.textContent = text;
  return span;
}
