// Shared helpers of the console pages: the JSON API (session cookie + CSRF header), the event
// stream (SSE), DOM building without innerHTML (every value from the cloud is text), routing.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// fetch a /console/api path; state-changing calls carry X-ZT-Console: 1 (the server's CSRF
// guard). A 401 sends the user to the login page and comes back here afterwards.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-ZT-Console'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.status === 401 && !path.endsWith('/login')) {
    go('/login', { next: location.hash || '#/' });
    throw new ApiError(401, 'log in first');
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.message) || response.statusText);
  return data;
}

// One SSE stream; `handlers` maps event names to callbacks taking the parsed data. EventSource
// reconnects by itself; `open` is called on every (re)connect so pages can resynchronise.
export function stream(query, handlers) {
  const source = new EventSource('/console/api/stream' + (query ? '?' + query : ''));
  for (const [name, handler] of Object.entries(handlers)) {
    if (name === 'open' || name === 'error') continue;
    source.addEventListener(name, (event) => {
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handler(data);
    });
  }
  if (handlers.open) source.addEventListener('open', () => handlers.open());
  if (handlers.error) source.addEventListener('error', () => handlers.error());
  return source;
}

// el('div', {class: 'x', onclick: fn, dataset: {...}}, child, 'text', ...): no HTML parsing.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'text') node.textContent = value;
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export function formatTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

// Hash routes: #/<page>/<arg>?k=v
export function parseHash(hash = location.hash) {
  const text = hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = text.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || '', args: parts.slice(1), query: new URLSearchParams(queryPart) };
}

export function go(path, query) {
  const q = query ? '?' + new URLSearchParams(query).toString() : '';
  location.hash = '#' + path + q;
}
