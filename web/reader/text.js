// A passage's text and the mapping between DOM positions and code-point offsets in it.
// The algorithm is shared with the server (passage-text.md): offsets count Unicode code
// points of normalize(walk(P)); ruby readings, scripts and nested passages are left out.

const HTML_NS = 'http://www.w3.org/1999/xhtml';
const SKIPPED = new Set(['rt', 'rp', 'script', 'style', 'template']);
const BLOCKS = new Set(('address article aside blockquote body caption center dd details dialog div dl dt ' +
  'fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup legend li main menu nav ol p ' +
  'pre section summary table tbody td tfoot th thead tr ul').split(' '));
const WHITESPACE = new Set([' ', '\t', '\n', '\f', '\r']);

const cache = new WeakMap();

/** The passage's text and, for every Text node in it, where each UTF-16 offset falls. */
export function passageText(passage) {
  let model = cache.get(passage);
  if (!model) {
    model = build(passage);
    cache.set(passage, model);
  }
  return model;
}

function build(passage) {
  const out = [];            // code points of the normalized text
  const sources = [];        // for each code point: [Text, utf16 offset, utf16 length] or null
  const offsets = new Map(); // Text -> Int32Array: normalized index of each UTF-16 boundary
  const texts = [];          // Text nodes in document order
  let pending = null;        // a whitespace run not yet written: its source or 'synthetic'

  const space = (source) => {
    if (pending === null) pending = source;
  };
  const emit = (ch, source) => {
    if (pending !== null) {
      if (out.length > 0) {
        out.push(' ');
        sources.push(pending === 'synthetic' ? null : pending);
      }
      pending = null;
    }
    out.push(ch);
    sources.push(source);
  };
  const text = (node) => {
    const data = node.data;
    const map = new Int32Array(data.length + 1);
    texts.push(node);
    offsets.set(node, map);
    let i = 0;
    while (i < data.length) {
      const cp = data.codePointAt(i);
      const ch = String.fromCodePoint(cp);
      const units = ch.length;
      if (WHITESPACE.has(ch)) {
        map[i] = out.length;
        space([node, i, 1]);
      } else {
        map[i] = out.length + (pending !== null && out.length > 0 ? 1 : 0);
        emit(ch, [node, i, units]);
      }
      if (units === 2) map[i + 1] = map[i];
      i += units;
    }
    map[data.length] = out.length;
  };
  const walk = (node) => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 3) {
        text(child);
      } else if (child.nodeType === 1) {
        const name = child.localName;
        if (SKIPPED.has(name)) continue;
        if (child.hasAttribute('data-passage') || name === 'br') {
          space('synthetic');
        } else if (BLOCKS.has(name) && child.namespaceURI === HTML_NS) {
          space('synthetic');
          walk(child);
          space('synthetic');
        } else {
          walk(child);
        }
      }
    }
  };
  walk(passage);
  return { text: out.join(''), length: out.length, chars: out, sources, offsets, texts };
}

/** Code points from `start` to `end` of the passage text. */
export function slice(model, start, end) {
  return model.chars.slice(start, end).join('');
}

/** The normalized index of a DOM boundary point inside `passage`. */
export function offsetOf(passage, container, offset) {
  const model = passageText(passage);
  const map = model.offsets.get(container);
  if (map) return map[Math.min(offset, map.length - 1)];
  // An element boundary, or a text node the text leaves out (a ruby reading, a nested
  // passage): the first counted text at or after the point decides.
  const doc = passage.ownerDocument;
  const range = doc.createRange();
  range.setStart(container, offset);
  for (const node of model.texts) {
    if (range.comparePoint(node, 0) >= 0) return model.offsets.get(node)[0];
  }
  return model.length;
}

/**
 * The anchor of a DOM range inside `passage`: {start, end, exact}, clipped to the passage and
 * trimmed of spaces at its ends; null when nothing of the passage's text is selected.
 */
export function anchorOf(passage, range) {
  const model = passageText(passage);
  let start = 0;
  let end = model.length;
  if (passage.contains(range.startContainer)) start = offsetOf(passage, range.startContainer, range.startOffset);
  if (passage.contains(range.endContainer)) end = offsetOf(passage, range.endContainer, range.endOffset);
  while (start < end && model.chars[start] === ' ') start++;
  while (end > start && model.chars[end - 1] === ' ') end--;
  if (start >= end) return null;
  return { start, end, exact: slice(model, start, end) };
}

/** The DOM range covering code points `start`..`end` of the passage, or null. */
export function rangeOf(passage, start, end) {
  const model = passageText(passage);
  let first = null;
  let last = null;
  for (let i = Math.max(0, start); i < Math.min(end, model.length); i++) {
    const source = model.sources[i];
    if (!source) continue;
    if (!first) first = source;
    last = source;
  }
  if (!first) return null;
  const range = passage.ownerDocument.createRange();
  range.setStart(first[0], first[1]);
  range.setEnd(last[0], last[1] + last[2]);
  return range;
}

/** The context around a quote that the API keeps for re-anchoring. */
export function context(model, start, end, size = 32) {
  return {
    prefix: slice(model, Math.max(0, start - size), start),
    suffix: slice(model, end, Math.min(model.length, end + size)),
  };
}

/** The passage's sentences as anchors {start, end, exact}, in the passage's language. */
export function sentencesOf(model, lang = undefined) {
  if (typeof Intl === 'undefined' || !Intl.Segmenter) return [];
  const segmenter = new Intl.Segmenter(lang, { granularity: 'sentence' });
  const sentences = [];
  let codePoints = 0;
  let units = 0;
  for (const { segment, index } of segmenter.segment(model.text)) {
    codePoints += [...model.text.slice(units, index)].length;
    units = index;
    let start = codePoints;
    let end = start + [...segment].length;
    while (start < end && model.chars[start] === ' ') start++;
    while (end > start && model.chars[end - 1] === ' ') end--;
    if (end > start) sentences.push({ start, end, exact: slice(model, start, end) });
  }
  return sentences;
}
