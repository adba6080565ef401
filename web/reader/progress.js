// The reading position (chapter and passage) kept on the server, so that it follows the
// reader to another device.

import { api } from '../api.js';

const SAVE_AFTER_MS = 1500;

/** Where the reader was in `bookId`, or null (never read, or signed out). */
export async function savedPosition(bookId) {
  try {
    return await api(`/api/me/progress/${bookId}`);
  } catch (e) {
    if (e.status === 404 || e.status === 401) return null;
    throw e;
  }
}

/** Saves the first passage on screen a moment after scrolling stops. */
export function trackProgress(bookId, chapter, passages, failed) {
  let timer = 0;
  let last = null;
  const save = async () => {
    const passage = passages.find((p) => p.getBoundingClientRect().bottom > 80);
    const id = passage?.dataset.passage ?? null;
    if (id === last) return;
    last = id;
    try {
      await api(`/api/me/progress/${bookId}`, { method: 'PUT', body: { chapter, passage: id } });
    } catch (e) {
      if (e.status !== 401) failed(e);
    }
  };
  const onScroll = () => {
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_AFTER_MS);
  };
  window.addEventListener('scroll', onScroll, { passive: true });
  save();
  return () => {
    clearTimeout(timer);
    window.removeEventListener('scroll', onScroll);
  };
}
