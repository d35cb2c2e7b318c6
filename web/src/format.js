/*
 * format.js - numbers, money, times and sentiment labels as the dashboard
 * shows them. One place, so every screen rounds and dates alike, in the
 * user's own locale and time zone (the API speaks UTC epoch seconds).
 */

const intFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const usdFmt = new Intl.NumberFormat(undefined, {
  style: 'currency', currency: 'USD', minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});
const timeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});
const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
});

function num(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

export function fmtInt(n) {
  return num(n) ? intFmt.format(n) : '–';
}

export function fmtNum(n, digits = 2) {
  return num(n) ? n.toFixed(digits) : '–';
}

export function fmtPct(x) {
  return num(x) ? `${(x * 100).toFixed(1)}%` : '–';
}

export function fmtUsd(x) {
  return num(x) ? usdFmt.format(x) : '–';
}

/* Epoch seconds (or an ISO string) to a Date, or null. */
export function toDate(t) {
  if (num(t)) return new Date(t * 1000);
  if (typeof t === 'string' && t) {
    const d = new Date(t);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

export function fmtTime(t) {
  const d = toDate(t);
  return d ? timeFmt.format(d) : '–';
}

export function fmtDate(t) {
  const d = toDate(t);
  return d ? dateFmt.format(d) : '–';
}

/* "3 min ago", "2 h ago", else the date. */
export function fmtAgo(t, now = Date.now()) {
  const d = toDate(t);
  if (!d) return '–';
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return fmtDate(t);
}

/* The API's labels, upper or lower case, to the four the badges know. */
export function sentimentOf(label) {
  const l = String(label || '').toLowerCase();
  return ['positive', 'neutral', 'negative', 'mixed'].includes(l) ? l : 'neutral';
}
