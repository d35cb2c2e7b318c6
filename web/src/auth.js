/*
 * auth.js - the session: sign-up, confirmation, sign-in, password reset,
 * refresh and sign-out against a Cognito user pool (or cognito-local,
 * which speaks the same JSON API), and the Hosted UI with authorization
 * code + PKCE when /config.json names a domain.
 *
 * The browser calls the identity provider directly (its JSON API:
 * POST with X-Amz-Target), so no secret and no server of ours sits in
 * between; the app client has no secret. The id token is what the API
 * gets: it carries the verified e-mail that invites are addressed to.
 * Tokens live in localStorage so a reload keeps the user signed in; the
 * strict Content-Security-Policy (no inline or foreign script) is what
 * keeps other code away from them. A timer refreshes the tokens five
 * minutes before they expire, and every API call that meets a 401
 * refreshes once before giving up.
 */

const KEY = 'echostream.session';
const PKCE_KEY = 'echostream.pkce';
const EARLY_MS = 5 * 60 * 1000;

let cfg = null;
let session = null;
let timer = null;
let refreshing = null;
const listeners = new Set();

/* An error of the identity provider, with its name (e.g. UserNotFoundException). */
export class AuthError extends Error {
  constructor(name, message, status) {
    super(message || name);
    this.name = name || 'AuthError';
    this.status = status;
  }
}

function b64urlJson(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const pad = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(pad);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/* The claims of a JWT, unverified (the API verifies; this only reads exp and email). */
export function claimsOf(token) {
  try {
    return b64urlJson(String(token).split('.')[1]);
  } catch {
    return {};
  }
}

function endpoint() {
  const c = cfg.cognito || {};
  return c.endpoint || `https://cognito-idp.${c.region}.amazonaws.com/`;
}

function hostedDomain() {
  const d = (cfg.cognito || {}).domain;
  if (!d) return null;
  return d.startsWith('http') ? d.replace(/\/+$/, '') : `https://${d}`;
}

/* One call of the user pool's JSON API. */
async function idp(action, body) {
  let res;
  try {
    res = await fetch(endpoint(), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
      credentials: 'omit',
    });
  } catch {
    throw new AuthError('NetworkError',
      'The sign-in service cannot be reached. Check your connection and try again.', 0);
  }
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = {};
  }
  if (!res.ok) {
    const type = String(data.__type || data.code || 'Error').split('#').pop();
    throw new AuthError(type, data.message || data.Message || `${action} failed`, res.status);
  }
  return data;
}

function notify() {
  for (const fn of listeners) fn(session);
}

function store(s) {
  session = s;
  if (s) {
    localStorage.setItem(KEY, JSON.stringify(s));
  } else {
    localStorage.removeItem(KEY);
  }
  schedule();
  notify();
}

function fromResult(r, prev) {
  const idToken = r.IdToken || r.id_token;
  const accessToken = r.AccessToken || r.access_token;
  const refreshToken = r.RefreshToken || r.refresh_token || (prev && prev.refreshToken);
  const claims = claimsOf(idToken);
  const exp = Number(claims.exp) * 1000 || Date.now() + 3600 * 1000;
  return {
    idToken, accessToken, refreshToken, expiresAt: exp,
    email: claims.email || (prev && prev.email) || '',
    username: claims['cognito:username'] || (prev && prev.username) || claims.email,
    hosted: Boolean(prev && prev.hosted),
  };
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  if (!session || !session.refreshToken) return;
  const wait = Math.max(5000, session.expiresAt - Date.now() - EARLY_MS);
  /* setTimeout caps near 24.8 days; tokens live far less */
  timer = setTimeout(() => {
    refresh().catch(() => {});
  }, Math.min(wait, 2 ** 31 - 1));
}

/* Loads the config and the stored session (dropping one of another pool). */
export function init(config) {
  cfg = config;
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    const iss = s && claimsOf(s.idToken).iss;
    const pool = (cfg.cognito || {}).userPoolId;
    if (s && (!pool || String(iss || '').endsWith(`/${pool}`))) {
      session = s;
    }
  } catch {
    session = null;
  }
  schedule();
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function current() {
  return session;
}

export function signedIn() {
  return Boolean(session && (session.refreshToken || session.expiresAt > Date.now()));
}

export function hostedUi() {
  return hostedDomain() !== null;
}

export async function signUp(email, password) {
  return idp('SignUp', {
    ClientId: cfg.cognito.clientId, Username: email, Password: password,
    UserAttributes: [{ Name: 'email', Value: email }],
  });
}

export async function confirmSignUp(email, code) {
  return idp('ConfirmSignUp', {
    ClientId: cfg.cognito.clientId, Username: email, ConfirmationCode: code,
  });
}

export async function resendCode(email) {
  return idp('ResendConfirmationCode', {
    ClientId: cfg.cognito.clientId, Username: email,
  });
}

export async function signIn(email, password) {
  const r = await idp('InitiateAuth', {
    ClientId: cfg.cognito.clientId, AuthFlow: 'USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (!r.AuthenticationResult) {
    throw new AuthError(r.ChallengeName || 'ChallengeRequired',
      `The identity provider asks for ${r.ChallengeName || 'another step'}, which this dashboard does not support; use the hosted sign-in page.`);
  }
  store(fromResult(r.AuthenticationResult, null));
  return session;
}

export async function forgotPassword(email) {
  return idp('ForgotPassword', { ClientId: cfg.cognito.clientId, Username: email });
}

export async function confirmForgotPassword(email, code, password) {
  return idp('ConfirmForgotPassword', {
    ClientId: cfg.cognito.clientId, Username: email, ConfirmationCode: code,
    Password: password,
  });
}

async function doRefresh() {
  const s = session;
  if (!s || !s.refreshToken) throw new AuthError('NotAuthorized', 'Signed out');
  let r;
  try {
    r = await idp('InitiateAuth', {
      ClientId: cfg.cognito.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: s.refreshToken },
    });
  } catch (err) {
    /* a refused refresh token ends the session; a network error keeps it */
    if (err.status && err.status < 500) store(null);
    throw err;
  }
  store(fromResult(r.AuthenticationResult || {}, s));
  return session;
}

/* Refreshes the tokens; concurrent callers share one call. */
export function refresh() {
  if (!refreshing) {
    refreshing = doRefresh().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/* The id token, refreshed first when it is about to expire. */
export async function idToken() {
  if (!session) return null;
  if (session.expiresAt - Date.now() < 60 * 1000 && session.refreshToken) {
    try {
      await refresh();
    } catch {
      return session ? session.idToken : null;
    }
  }
  return session ? session.idToken : null;
}

/* Ends the session here and, best effort, at the identity provider. */
export async function signOut() {
  const s = session;
  store(null);
  if (s && s.refreshToken) {
    idp('RevokeToken', { ClientId: cfg.cognito.clientId, Token: s.refreshToken })
      .catch(() => {});
  }
  /* the Hosted UI keeps its own session cookie: end it too (a local
     identity provider, named by cfg.cognito.endpoint, has no /logout) */
  if (s && s.hosted && hostedDomain() && !cfg.cognito.endpoint) {
    const url = new URL(`${hostedDomain()}/logout`);
    url.searchParams.set('client_id', cfg.cognito.clientId);
    url.searchParams.set('logout_uri', `${location.origin}/`);
    location.assign(url.href);
  }
}

/* Forgets the session without telling anyone (a 401 that refresh could not mend). */
export function drop() {
  store(null);
}

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

/* Hosted UI: to the authorize endpoint with a PKCE S256 challenge. */
export async function hostedSignIn(next) {
  const verifier = randomString(48);
  const state = randomString(24);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, next }));
  const url = new URL(`${hostedDomain()}/oauth2/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', cfg.cognito.clientId);
  url.searchParams.set('redirect_uri', `${location.origin}/`);
  url.searchParams.set('scope', 'openid email profile');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('code_challenge', b64url(new Uint8Array(digest)));
  location.assign(url.href);
}

/*
 * Hosted UI return: ?code=&state= on the page's own URL. Exchanges the code
 * (with the verifier only this tab holds) and returns the hash to go to,
 * or null when the URL carries no code.
 */
export async function completeHostedSignIn() {
  const q = new URLSearchParams(location.search);
  const code = q.get('code');
  const error = q.get('error');
  if (!code && !error) return null;
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
  sessionStorage.removeItem(PKCE_KEY);
  if (error) throw new AuthError(error, q.get('error_description') || error);
  if (!saved || saved.state !== q.get('state')) {
    throw new AuthError('InvalidState', 'The sign-in response does not match this browser tab; sign in again.');
  }
  const body = new URLSearchParams({
    grant_type: 'authorization_code', client_id: cfg.cognito.clientId,
    code, redirect_uri: `${location.origin}/`, code_verifier: saved.verifier,
  });
  const res = await fetch(`${hostedDomain()}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body, credentials: 'omit',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok || !data.id_token) {
    throw new AuthError(data.error || 'TokenError', data.error_description || 'The sign-in could not be completed.');
  }
  store({ ...fromResult(data, null), hosted: true });
  return saved.next || '#/topics';
}
