/*
 * alert_metric.js - what an alert rule's metric is called and how its
 * values read, shared by the rules list, the rule form and the history.
 *
 * The API names metrics by identifier (negative_share, volume,
 * mean_compound); people read "share of negative comments" and "62%",
 * "comments per hour" and "143.0", "mean sentiment" and "-0.41". Keeping
 * the names and the formatting in one table keeps the three places alike.
 */

import { fmtNum, fmtPct } from '../format.js';

export const METRICS = [
  {
    id: 'negative_share',
    name: 'Share of negative comments',
    event: 'Negative spike',
    help: 'Fires when the share of negative comments rises above its usual level.',
    value: (x) => fmtPct(x),
  },
  {
    id: 'volume',
    name: 'Comment volume (comments per hour)',
    event: 'Volume spike',
    help: 'Fires when comments per hour rise above their usual level.',
    value: (x) => `${fmtNum(x, 1)} comments/hour`,
  },
  {
    id: 'mean_compound',
    name: 'Mean sentiment (compound score)',
    event: 'Sentiment drop',
    help: 'Fires when the mean compound score (-1 to 1) drops below its usual level.',
    value: (x) => fmtNum(x, 3),
  },
];

export function metricOf(id) {
  return METRICS.find((m) => m.id === id)
    || { id, name: String(id), event: `Alert (${id})`, help: '', value: (x) => fmtNum(x, 3) };
}

/* 45 -> "45 min", 60 -> "1 hour", 90 -> "1 h 30 min": a duration for reading. */
export function minutes(n) {
  if (!Number.isFinite(n)) return '–';
  if (n < 60) return `${n} min`;
  const hrs = Math.floor(n / 60);
  const rest = n % 60;
  if (rest) return `${hrs} h ${rest} min`;
  return hrs === 1 ? '1 hour' : `${hrs} hours`;
}
