/*
 * api.js - every call to /api/v1, with the API's error shape turned into
 * one exception (ApiError) that the screens can show: the field and
 * character offset of a validation error, the Retry-After of a 429, 503
 * when Redis is down, status 0 when the API cannot be reached at all.
 *
 * A 401 means the id token is no longer accepted: the session is
 * refreshed once and the call repeated; if that fails too, the handler set
 * by main.js ends the session and sends the user to sign in, remembering
 * the page they were on.
 */

import * as auth from './auth.js';

let base = '/api/v1';
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, error, retryAfter) {
    const e = error || {};
    super(e.message || (status === 0 ? 'The API cannot be reached.' : `HTTP ${status}`));
    this.name = 'ApiError';
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http');
    this.field = e.field;
    this.position = e.position;
    this.column = e.column;
    this.retryAfter = retryAfter;
    this.details = e;
  }
}

/* Where the API lives (config.json's apiBase; same origin by default). */
export function setBase(apiBase) {
  if (apiBase) base = apiBase.replace(/\/+$/, '');
}

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function url(path, query) {
  const u = new URL(base + path, location.href);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  return u.href;
}

export function streamUrl() {
  return url('/stream');
}

export async function authHeaders() {
  const token = await auth.idToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function send(method, path, opts) {
  const headers = { ...(await authHeaders()), Accept: 'application/json' };
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  try {
    return await fetch(url(path, opts.query), {
      method, headers, body, signal: opts.signal, credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, null);
  }
}

async function errorOf(res) {
  let error = null;
  try {
    const data = await res.json();
    error = data && data.error;
  } catch {
    error = null;
  }
  const ra = Number(res.headers.get('Retry-After'));
  return new ApiError(res.status, error, Number.isFinite(ra) ? ra : undefined);
}

/* One API call; see the file header. */
export async function api(method, path, opts = {}) {
  let res = await send(method, path, opts);
  if (res.status === 401 && auth.current()) {
    try {
      await auth.refresh();
      res = await send(method, path, opts);
    } catch {
      /* the refresh was refused: fall through to the 401 */
    }
  }
  if (res.status === 401) {
    const err = await errorOf(res);
    onUnauthorized(err);
    throw err;
  }
  if (!res.ok) throw await errorOf(res);
  if (opts.raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, query, opts = {}) => api('GET', path, { ...opts, query });
export const post = (path, body, opts = {}) => api('POST', path, { ...opts, body });
export const put = (path, body, opts = {}) => api('PUT', path, { ...opts, body });
export const patch = (path, body, opts = {}) => api('PATCH', path, { ...opts, body });
export const del = (path, opts = {}) => api('DELETE', path, opts);
