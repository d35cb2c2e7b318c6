/*
 * series.js - what the topic charts ask /topics/{id}/series for and what
 * they make of the answer: the step/range choices, the request for one,
 * the columns uPlot draws and the totals the text summaries state.
 *
 * The API answers at most 1,500 points and keeps minute buckets for 48 h,
 * hour buckets for 90 days and day buckets for 730 days, so every range
 * offered here stays inside those limits (24 h of minutes is 1,441 points
 * once `from` is floored to the minute). No DOM here, so the numbers can
 * be reasoned about (and tested) apart from the page.
 */

import { get } from '../api.js';
import { fmtInt, fmtNum, fmtPct } from '../format.js';

const H = 3600;
const D = 86400;

export const STEPS = [
  { value: 'minute', label: 'Minute' },
  { value: 'hour', label: 'Hour' },
  { value: 'day', label: 'Day' },
];

/* Per step: the ranges offered (the first listed is not always the default). */
export const RANGES = {
  minute: [
    { value: '1h', label: 'Last hour', seconds: H },
    { value: '6h', label: 'Last 6 hours', seconds: 6 * H },
    { value: '24h', label: 'Last 24 hours', seconds: D },
    /* 1,500 minutes: the most points one request may ask for */
    { value: '25h', label: 'Last 25 hours', seconds: 1499 * 60 },
  ],
  hour: [
    { value: '24h', label: 'Last 24 hours', seconds: D },
    { value: '7d', label: 'Last 7 days', seconds: 7 * D },
    { value: '30d', label: 'Last 30 days', seconds: 30 * D },
  ],
  day: [
    { value: '30d', label: 'Last 30 days', seconds: 30 * D },
    { value: '90d', label: 'Last 90 days', seconds: 90 * D },
    { value: '1y', label: 'Last year', seconds: 365 * D },
  ],
};

export const DEFAULT_RANGE = { minute: '1h', hour: '24h', day: '30d' };

/* How often a chart of each step is fetched again (ms): new buckets fill at that pace. */
export const REFRESH_MS = { minute: 30 * 1000, hour: 2 * 60 * 1000, day: 10 * 60 * 1000 };

export function rangeOf(step, value) {
  const list = RANGES[step] || RANGES.hour;
  return list.find((r) => r.value === value) || list.find((r) => r.value === DEFAULT_RANGE[step]);
}

/* GET the series of a topic for the last `range` at `step`. */
export function fetchSeries(topicId, step, range, signal) {
  const now = Math.floor(Date.now() / 1000);
  return get(`/topics/${encodeURIComponent(topicId)}/series`, {
    step, from: now - range.seconds, to: now,
  }, { signal });
}

/*
 * The answer as uPlot columns: x (epoch s), positive, neutral, negative,
 * mixed, compound (null where a bucket is empty, so the line breaks
 * instead of claiming a neutral 0), n.
 */
export function toColumns(points) {
  const len = points.length;
  const cols = [[], [], [], [], [], [], []];
  for (let i = 0; i < len; i += 1) {
    const p = points[i];
    cols[0].push(Date.parse(p.t) / 1000);
    cols[1].push(p.positive);
    cols[2].push(p.neutral);
    cols[3].push(p.negative);
    cols[4].push(p.mixed);
    cols[5].push(p.n > 0 ? p.compound : null);
    cols[6].push(p.n);
  }
  return cols;
}

/* Sums over all points; compound is the volume-weighted mean. */
export function totals(points) {
  const t = { n: 0, positive: 0, neutral: 0, negative: 0, mixed: 0, compound: 0, peak: null };
  let weighted = 0;
  for (const p of points) {
    t.n += p.n;
    t.positive += p.positive;
    t.neutral += p.neutral;
    t.negative += p.negative;
    t.mixed += p.mixed;
    weighted += p.compound * p.n;
    if (p.n > 0 && (!t.peak || p.n > t.peak.n)) t.peak = p;
  }
  t.compound = t.n > 0 ? weighted / t.n : 0;
  return t;
}

const bucketFmt = {
  minute: new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
  hour: new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
  /* day buckets are UTC days: shown in UTC so a bucket is not labelled with the day before */
  day: new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }),
};

/* A bucket's start as people read it for that step. */
export function fmtBucket(iso, step) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : (bucketFmt[step] || bucketFmt.hour).format(d);
}

/* The text alternative of the sentiment chart. */
export function sentimentSummary(t, step, range) {
  if (t.n === 0) return `${range.label}: no comments.`;
  const parts = [
    `${fmtPct(t.positive / t.n)} positive`,
    `${fmtPct(t.neutral / t.n)} neutral`,
    `${fmtPct(t.negative / t.n)} negative`,
  ];
  if (t.mixed > 0) parts.push(`${fmtPct(t.mixed / t.n)} mixed`);
  return `${range.label}, by ${step}: ${fmtInt(t.n)} ${t.n === 1 ? 'comment' : 'comments'} — ${parts.join(', ')}. `
    + `Mean compound score ${fmtNum(t.compound, 2)} (−1 negative to +1 positive).`;
}

/* The text alternative of the volume chart. */
export function volumeSummary(t, step, range, points) {
  if (t.n === 0) return `${range.label}: no comments.`;
  const avg = t.n / Math.max(points.length, 1);
  return `${range.label}: ${fmtInt(t.n)} ${t.n === 1 ? 'comment' : 'comments'}, ${fmtNum(avg, 1)} per ${step} on average; `
    + `busiest ${step} ${fmtBucket(t.peak.t, step)} with ${fmtInt(t.peak.n)}.`;
}
