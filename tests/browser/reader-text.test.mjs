// Unit tests of the passage-text algorithm (web/reader/text.js) on a minimal fake DOM: the
// same walk the server does, code-point offsets, and positions mapped both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passageText, offsetOf, anchorOf, rangeOf, sentencesOf } from '../../web/reader/text.js';

const HTML = 'http://www.w3.org/1999/xhtml';

class FakeNode {
  constructor() { this.firstChild = null; this.nextSibling = null; this.parentNode = null; }
}
class FakeText extends FakeNode {
  constructor(data) { super(); this.nodeType = 3; this.data = data; }
}
class FakeElement extends FakeNode {
  constructor(name, attrs = {}, ns = HTML) {
    super();
    this.nodeType = 1; this.localName = name; this.namespaceURI = ns; this.attrs = attrs;
    this.ownerDocument = { createRange: () => new FakeRange() };
  }
  hasAttribute(name) { return name in this.attrs; }
  contains(node) {
    for (let n = node; n; n = n.parentNode) if (n === this) return true;
    return false;
  }
}
class FakeRange {
  setStart(node, offset) { this.startContainer = node; this.startOffset = offset; }
  setEnd(node, offset) { this.endContainer = node; this.endOffset = offset; }
}

// h('p', {}, 'text', h('b', {}, 'bold')) builds a tree.
function h(name, attrs, ...children) {
  const el = new FakeElement(name, attrs, attrs.ns || HTML);
  let previous = null;
  for (const c of children) {
    const child = typeof c === 'string' ? new FakeText(c) : c;
    child.parentNode = el;
    if (previous) previous.nextSibling = child; else el.firstChild = child;
    previous = child;
  }
  return el;
}

test('whitespace collapses and trims; blocks and br are spaces', () => {
  const p = h('div', { 'data-passage': 'c1p1' }, '\n  Call me ', h('em', {}, 'Ishmael'), '.',
    h('br', {}), 'Some', h('p', {}, 'years'), 'ago  \t');
  assert.equal(passageText(p).text, 'Call me Ishmael. Some years ago');
});

test('ruby readings, scripts and nested passages are left out', () => {
  const p = h('p', { 'data-passage': 'c1p2' }, h('ruby', {}, '山路', h('rp', {}, '('), h('rt', {}, 'やまみち'),
    h('rp', {}, ')')), 'を登り', h('span', { 'data-passage': 'c1p3' }, 'inner'), 'ながら');
  assert.equal(passageText(p).text, '山路を登り ながら');
});

test('inline SVG and MathML are walked, only HTML blocks add spaces', () => {
  const p = h('p', { 'data-passage': 'c1p4' }, 'a', h('div', { ns: 'http://www.w3.org/2000/svg' }, 'b'), 'c');
  assert.equal(passageText(p).text, 'abc');
});

test('offsets count code points, not UTF-16 units', () => {
  const emoji = new FakeText('Tea 🍵 and cafe\u0301 ok');
  const p = h('p', { 'data-passage': 'c1p5' });
  p.firstChild = emoji; emoji.parentNode = p;
  const model = passageText(p);
  assert.equal(model.length, [...'Tea 🍵 and cafe\u0301 ok'].length);
  // "and" starts after the emoji: UTF-16 offset 7, code point 6.
  assert.equal(offsetOf(p, emoji, 7), 6);
  const range = new FakeRange();
  range.setStart(emoji, 4); range.setEnd(emoji, 17);
  assert.deepEqual(anchorOf(p, range), { start: 4, end: 15, exact: '🍵 and cafe\u0301' });
  const back = rangeOf(p, 4, 15);
  assert.equal(back.startOffset, 4);
  assert.equal(back.endOffset, 16);
});

test('a selection over collapsed whitespace and across nodes maps to the slice', () => {
  const p = h('p', { 'data-passage': 'c1p6' }, 'one   ', h('i', {}, '  two'), ' three');
  const [one, i, three] = [p.firstChild, p.firstChild.nextSibling, p.firstChild.nextSibling.nextSibling];
  const range = new FakeRange();
  range.setStart(one, 2); range.setEnd(three, 3);
  assert.deepEqual(anchorOf(p, range), { start: 2, end: 10, exact: 'e two th' });
  const back = rangeOf(p, 4, 7);
  assert.equal(back.startContainer, i.firstChild);
  assert.equal(back.startOffset, 2);
  assert.equal(back.endOffset, 5);
});

test('sentences are anchors in code points', () => {
  const p = h('p', { 'data-passage': 'c1p7' }, 'Tea 🍵 first. Then  the rest! Done');
  const model = passageText(p);
  const sentences = sentencesOf(model, 'en');
  assert.deepEqual(sentences.map((s) => s.exact), ['Tea 🍵 first.', 'Then the rest!', 'Done']);
  assert.deepEqual(sentences[1], { start: 13, end: 27, exact: 'Then the rest!' });
});
