/*
 * sse.js - a Server-Sent Events client on fetch(), for /api/v1/stream.
 *
 * EventSource cannot send an Authorization header, and the API takes the
 * token only there (a token in the URL would end up in logs), so the
 * stream is read with fetch() and a streaming body reader, and the
 * text/event-stream format is parsed here. What EventSource would do is
 * done by hand: the last `id:` seen goes out as Last-Event-ID on
 * reconnect, so the server resumes after the last whole entry; `retry:`
 * sets the first reconnect delay; a dropped connection, an error answer or
 * the end of the body leads to a reconnect with exponential backoff
 * (capped, with jitter so many tabs do not come back in step). Before each
 * connection the token is fetched anew (authHeaders() refreshes one that
 * is about to expire); a 401 is handed to onUnauthorized, which refreshes
 * the session or ends it.
 */

const MAX_BACKOFF_MS = 30000;
/* a connection that lasted this long counts as healthy: backoff starts over */
const HEALTHY_MS = 20000;

/*
 * Parses event-stream text fed in chunks; calls onEvent({event, data, id})
 * per dispatched event and onRetry(ms) for `retry:` lines.
 */
export function eventParser(onEvent, onRetry) {
  let buf = '';
  let event = '';
  let data = [];
  let id = null;

  function line(l) {
    if (l === '') {
      if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n'), id });
      event = '';
      data = [];
      id = null;
      return;
    }
    if (l[0] === ':') return; /* a comment: the server's keepalive */
    const colon = l.indexOf(':');
    const name = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
    else if (name === 'id' && !value.includes('\0')) id = value;
    else if (name === 'retry' && /^[0-9]+$/.test(value)) onRetry(Number(value));
  }

  /* text since the last line end, kept in pieces: a long line arriving in
     many small chunks is joined once, when its end comes, not per chunk */
  let parts = [];
  let pendingCr = false;

  return function feed(text) {
    if (!pendingCr && !/[\r\n]/.test(text)) {
      if (text) parts.push(text);
      return;
    }
    parts.push(text);
    const buf = parts.join('');
    parts = [];
    /* lines end in \n, \r\n or \r; a trailing \r may be half of a \r\n still to come */
    let start = 0;
    for (let i = 0; i < buf.length; i += 1) {
      const c = buf[i];
      if (c === '\n' || c === '\r') {
        if (c === '\r' && i === buf.length - 1) break;
        line(buf.slice(start, i));
        if (c === '\r' && buf[i + 1] === '\n') i += 1;
        start = i + 1;
      }
    }
    const rest = buf.slice(start);
    pendingCr = rest.endsWith('\r');
    if (rest) parts.push(rest);
  };
}

/*
 * Opens the stream and keeps it open until close(). opts: {url, headers
 * (async fn returning the auth headers), onEvent(ev), onState(state,
 * detail), onUnauthorized()}. States: 'connecting', 'live',
 * 'reconnecting' (detail: seconds until the next try), 'closed'.
 */
export function openStream(opts) {
  let lastId = null;
  let closed = false;
  let ctl = null;
  let waitTimer = null;
  let retryMs = 2000;
  let attempt = 0;
  let wasLive = false;

  function backoff(minMs) {
    const base = Math.min(MAX_BACKOFF_MS, retryMs * 2 ** attempt);
    attempt += 1;
    return Math.max(minMs || 0, Math.round(base * (0.75 + Math.random() * 0.5)));
  }

  function later(ms) {
    if (closed) return;
    opts.onState('reconnecting', Math.ceil(ms / 1000));
    waitTimer = setTimeout(connect, ms);
  }

  async function connect() {
    waitTimer = null;
    if (closed) return;
    opts.onState(wasLive || attempt > 0 ? 'reconnecting' : 'connecting', 0);
    ctl = new AbortController();
    const opened = Date.now();
    let res;
    try {
      const headers = { ...(await opts.headers()), Accept: 'text/event-stream' };
      if (lastId) headers['Last-Event-ID'] = lastId;
      res = await fetch(opts.url, {
        headers, signal: ctl.signal, cache: 'no-store', credentials: 'omit',
      });
    } catch {
      if (!closed) later(backoff());
      return;
    }
    if (!res.ok) {
      const ra = Number(res.headers.get('Retry-After'));
      if (res.body) res.body.cancel().catch(() => {});
      if (res.status === 401) {
        /* a token the server no longer takes: refresh (or end) the session first */
        try { await opts.onUnauthorized(); } catch { /* the retry below reports it */ }
      } else if (res.status === 400) {
        /* an id the server refuses: start from now rather than fail forever */
        lastId = null;
      }
      later(backoff(Number.isFinite(ra) ? ra * 1000 : 0));
      return;
    }
    wasLive = true;
    opts.onState('live', 0);
    const parse = eventParser((ev) => {
      if (ev.id) lastId = ev.id;
      opts.onEvent(ev);
    }, (ms) => { retryMs = ms; });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parse(decoder.decode(value, { stream: true }));
      }
    } catch {
      /* dropped connection, or close() aborted the read */
    }
    if (closed) return;
    if (Date.now() - opened > HEALTHY_MS) attempt = 0;
    later(backoff());
  }

  connect();

  return {
    close() {
      closed = true;
      clearTimeout(waitTimer);
      if (ctl) ctl.abort();
      opts.onState('closed', 0);
    },
  };
}
