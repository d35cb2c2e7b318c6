// web_sse_parser.test.mjs - the dashboard's text/event-stream parser
// (web/src/views/sse.js) under random chunking and hostile input.
//
// The live feed reads /api/v1/stream with fetch(), so the bytes arrive cut
// anywhere: in the middle of a line, between \r and \n, inside a multi-byte
// character's UTF-16 pair. Whatever the cuts, the parser must dispatch
// exactly the events of the whole text, in order; `id:` lines with NUL are
// ignored (as the SSE standard says), comments never dispatch, and a
// stream of junk never throws. A seeded generator makes failures
// repeatable (ES_FUZZ_SEED).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { eventParser } from '../../../web/src/views/sse.js';

function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const SEED = Number(process.env.ES_FUZZ_SEED || 1);

function parseAll(chunks) {
  const events = [];
  const retries = [];
  const feed = eventParser((e) => events.push(e), (ms) => retries.push(ms));
  for (const c of chunks) feed(c);
  return { events, retries };
}

function cut(text, rnd) {
  const out = [];
  let i = 0;
  while (i < text.length) {
    const n = 1 + Math.floor(rnd() * 12);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

const EOLS = ['\n', '\r\n', '\r'];

function randomStream(rnd, n) {
  const want = [];
  let text = '';
  for (let k = 0; k < n; k += 1) {
    const eol = EOLS[Math.floor(rnd() * EOLS.length)];
    if (rnd() < 0.2) text += `: keepalive${eol}`;
    const lines = 1 + Math.floor(rnd() * 3);
    const data = [];
    for (let j = 0; j < lines; j += 1) {
      data.push(JSON.stringify({ id: `c${k}_${j}`, body: 'naïve 😀 <img src=x onerror=alert(1)>' }));
    }
    const id = rnd() < 0.5 ? `${1764079331000 + k}-0` : null;
    text += `event: comment${eol}`;
    for (const d of data) text += `data: ${d}${eol}`;
    if (id) text += `id: ${id}${eol}`;
    text += eol;
    want.push({ event: 'comment', data: data.join('\n'), id });
  }
  return { text, want };
}

test('random chunkings give the events of the whole text', () => {
  const rnd = prng(SEED);
  for (let round = 0; round < 300; round += 1) {
    const { text, want } = randomStream(rnd, 1 + Math.floor(rnd() * 6));
    const whole = parseAll([text]).events;
    const pieces = parseAll(cut(text, rnd)).events;
    const single = parseAll([...text]).events;
    // a stream ending in a lone \r holds the last line until more comes
    if (!text.endsWith('\r')) assert.deepEqual(whole, want, `round ${round}`);
    assert.deepEqual(pieces, whole, `round ${round}: chunked`);
    assert.deepEqual(single, whole, `round ${round}: one char at a time`);
  }
});

test('the standard\'s corner cases', () => {
  const { events, retries } = parseAll([
    'data\n\n', // a field name alone: empty data
    'data:no space\n\n',
    'id: 1-0\0evil\ndata: x\n\n', // NUL in id: ignored
    'retry: 2500\nretry: soon\n',
    'event: comment\n\n', // no data: nothing dispatched
    ':comment only\n\n',
  ]);
  assert.deepEqual(events, [
    { event: 'message', data: '', id: null },
    { event: 'message', data: 'no space', id: null },
    { event: 'message', data: 'x', id: null },
  ]);
  assert.deepEqual(retries, [2500]);
});

test('junk never throws and big data stays whole', () => {
  const rnd = prng(SEED + 7);
  const feed = eventParser(() => {}, () => {});
  for (let i = 0; i < 2000; i += 1) {
    let s = '';
    const n = Math.floor(rnd() * 64);
    for (let j = 0; j < n; j += 1) s += String.fromCharCode(Math.floor(rnd() * 0x10000));
    feed(s);
  }
  const big = 'y'.repeat(1 << 20);
  const { events } = parseAll(cut(`data: ${big}\n\n`, prng(3)));
  assert.equal(events.length, 1);
  assert.equal(events[0].data.length, big.length);
});
