/*
 * day_range.js - whole-day date ranges as the share-of-voice and export
 * screens ask for them.
 *
 * The API counts share of voice in whole UTC days and takes export bounds
 * as UTC instants with an exclusive end, so both screens work in UTC
 * calendar days ('YYYY-MM-DD', what <input type="date"> reads and writes)
 * and turn them into the API's arguments here, in one place. Checking the
 * range before asking spares the user a round trip for the API's own
 * 366-day limit and says which bound is wrong.
 */

export const MAX_DAYS = 366;
const DAY_MS = 86400000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/* 'YYYY-MM-DD' of a Date, in UTC. */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/* Milliseconds of a day's UTC midnight, or NaN when it is not a day. */
function dayMs(day) {
  return DAY_RE.test(day || '') ? Date.parse(`${day}T00:00:00Z`) : NaN;
}

export function isDay(day) {
  return !Number.isNaN(dayMs(day));
}

/* The last n days up to today (UTC), both ends included. */
export function lastDays(n, now = Date.now()) {
  return {
    from: isoDay(new Date(now - (n - 1) * DAY_MS)),
    to: isoDay(new Date(now)),
  };
}

/* How many days from..to holds, both ends included. */
export function dayCount(from, to) {
  return Math.round((dayMs(to) - dayMs(from)) / DAY_MS) + 1;
}

/* The instant a day starts ('2026-11-24T00:00:00Z'). */
export function dayStart(day) {
  return `${day}T00:00:00Z`;
}

/* The instant the day after `day` starts: an exclusive end. */
export function dayEnd(day) {
  return `${isoDay(new Date(dayMs(day) + DAY_MS))}T00:00:00Z`;
}

/*
 * Why from..to cannot be asked for, as {field, message} (the shape
 * showFieldErrors() reads), or null when it can.
 */
export function rangeProblem(from, to, max = MAX_DAYS) {
  if (!isDay(from)) return { field: 'from', message: 'Enter the first day as a date.' };
  if (!isDay(to)) return { field: 'to', message: 'Enter the last day as a date.' };
  const n = dayCount(from, to);
  if (n < 1) return { field: 'to', message: 'The last day must not be before the first.' };
  if (n > max) {
    return { field: 'from', message: `The range holds ${n} days; at most ${max} can be asked for at once.` };
  }
  return null;
}
