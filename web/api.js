// The one way the web app talks to the server: JSON in and out, the session's CSRF token on
// every write, problem+json errors thrown as ApiError with their human message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

let current; // undefined: not asked yet; null: signed out; else the /api/me body

async function problem(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    message = body.detail || body.title || message;
  } catch {
    // Not JSON: the status line is the best message there is.
  }
  return new ApiError(response.status, message);
}

function headers(method, json) {
  const h = { Accept: 'application/json' };
  if (json) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && current?.csrf_token) {
    h['X-CSRF-Token'] = current.csrf_token;
  }
  return h;
}

// `body` is sent as JSON; `form` (a FormData) as multipart.
export async function api(path, { method = 'GET', body, form } = {}) {
  const json = body !== undefined && !form;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(method, json),
      body: form ?? (json ? JSON.stringify(body) : undefined),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.');
  }
  if (!response.ok) throw await problem(response);
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : response.text();
}

// The signed-in user (with its csrf_token), or null; asked once, then cached.
export async function me() {
  if (current === undefined) await refreshMe();
  return current;
}

export async function refreshMe() {
  try {
    current = await api('/api/me');
  } catch (e) {
    if (e.status !== 401) throw e;
    current = null;
  }
  return current;
}

// For sign in / register / sign out, whose answers already say who is signed in.
export function setMe(user) {
  current = user;
}

// Upload with progress (fetch cannot report upload progress): resolves with the JSON answer
// and its status, for a caller that shows 200 duplicate and 201 imported differently.
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (current?.csrf_token) xhr.setRequestHeader('X-CSRF-Token', current.csrf_token);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Leave body null: the status line names the problem.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, body });
      else reject(new ApiError(xhr.status, body?.detail || body?.title || `${xhr.status} ${xhr.statusText}`));
    });
    xhr.addEventListener('error', () =>
      reject(new ApiError(0, 'The upload could not reach the server.')));
    xhr.send(form);
  });
}

const timers = {};

// Writes to the shell's live region (also shown on screen for a while); the same text twice
// is still announced.
export function announce(message, { assertive = false } = {}) {
  const id = assertive ? 'alert' : 'status';
  const region = document.getElementById(id);
  if (!region) return;
  region.textContent = '';
  clearTimeout(timers[id]);
  requestAnimationFrame(() => {
    region.textContent = message;
  });
  timers[id] = setTimeout(() => { region.textContent = ''; }, assertive ? 12000 : 6000);
}
