/*
 * share_sentiment.js - each topic's sentiment split over a range of days,
 * for the share-of-voice screen.
 *
 * /share-of-voice answers counts only, so the split comes from each
 * topic's daily series (one request per topic, a point per day, at most
 * 367 points for the longest range the screen allows). A tenant may have
 * up to 100 topics and the API allows 20 requests a second with bursts of
 * 40, so at most a few requests run at once, and a 429 waits the
 * Retry-After it names before its one retry instead of failing the row.
 */

import { get } from '../api.js';
import { dayEnd, dayStart } from './day_range.js';

const PARALLEL = 3;
const LABELS = ['positive', 'neutral', 'negative', 'mixed'];

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    if (signal) {
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new DOMException('aborted', 'AbortError'));
      }, { once: true });
    }
  });
}

/* {n, positive, neutral, negative, mixed} summed over the series' points. */
export function sumSplit(points) {
  const out = { n: 0, positive: 0, neutral: 0, negative: 0, mixed: 0 };
  for (const p of points || []) {
    out.n += p.n || 0;
    for (const l of LABELS) out[l] += p[l] || 0;
  }
  return out;
}

async function splitOf(id, from, to, signal) {
  const query = { step: 'day', from: dayStart(from), to: dayEnd(to) };
  const path = `/topics/${encodeURIComponent(id)}/series`;
  try {
    return sumSplit((await get(path, query, { signal })).points);
  } catch (err) {
    if (err.status !== 429) throw err;
    await sleep(Math.min(10, err.retryAfter || 1) * 1000, signal);
    return sumSplit((await get(path, query, { signal })).points);
  }
}

/*
 * Calls done(id, split, null) or done(id, null, err) for every topic id
 * as its answer arrives, a few at a time; stops when signal aborts.
 */
export async function loadSplits(ids, from, to, signal, done) {
  const queue = ids.slice();
  const worker = async () => {
    while (queue.length && !signal.aborted) {
      const id = queue.shift();
      try {
        const split = await splitOf(id, from, to, signal);
        if (!signal.aborted) done(id, split, null);
      } catch (err) {
        if (err.name === 'AbortError' || signal.aborted) return;
        done(id, null, err);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

export { LABELS };
