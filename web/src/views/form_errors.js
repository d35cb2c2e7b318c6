/*
 * form_errors.js - how a form shows a failed save.
 *
 * A validation error names its field and its message is written for
 * people ("retention_days must be an integer from 1 to 365"), so it goes
 * to that field. Anything else (503 while Redis restarts, 429 with its
 * wait, no network, a role that may not do this) gets ui.describe()'s
 * wording at the form's error line: the API's own message for those is
 * terse ("redis down") and says nothing about what to do.
 */

import { showFieldErrors } from '../dom.js';
import { describe } from '../ui.js';

const OWN_WORDS = new Set([0, 403, 429, 500, 503]);

export function showSaveError(form, err) {
  if (err && err.field) return showFieldErrors(form, err);
  const status = err && err.status;
  const message = OWN_WORDS.has(status) || !(err && err.message) ? describe(err) : err.message;
  return showFieldErrors(form, { message });
}
