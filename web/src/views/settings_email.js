/*
 * settings_email.js - the "Your e-mails" section of #/settings: the
 * signed-in user's own opt-ins to the daily digest and alert e-mails
 * (PATCH /me), which every member may change for themself.
 *
 * The flags are read afresh (GET /me) rather than taken from the session:
 * an unsubscribe link in a mail may have turned one off since sign-in.
 * The PATCH's answer is written back into ctx.me as well.
 */

import { get, patch } from '../api.js';
import { clearFieldErrors, field, h, mount } from '../dom.js';
import { section, toast } from '../ui.js';
import { showSaveError } from './form_errors.js';

function prefsForm(me, ctx) {
  const digest = h('input', { type: 'checkbox', checked: Boolean(me.digest) });
  const alerts = h('input', { type: 'checkbox', checked: Boolean(me.alert_email) });
  const form = h('form', { class: 'form email-form', noValidate: true },
    h('p', { class: 'help' }, `Sent to ${me.email || 'your address'}. Every e-mail also has a link to stop it.`),
    field({ label: 'Daily digest', input: digest, name: 'digest', help: 'The day\'s summaries and alerts, once a day.' }),
    field({ label: 'Alert e-mails', input: alerts, name: 'alert_email', help: 'A message each time an alert rule fires.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save e-mail preferences')));

  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    busy = true;
    clearFieldErrors(form);
    try {
      const saved = await patch('/me', { digest: digest.checked, alert_email: alerts.checked });
      if (ctx.me) Object.assign(ctx.me, { digest: saved.digest, alert_email: saved.alert_email });
      digest.checked = saved.digest;
      alerts.checked = saved.alert_email;
      toast('E-mail preferences saved.');
    } catch (err) {
      showSaveError(form, err);
    } finally {
      busy = false;
    }
  });

  return form;
}

export function emailPrefs(el, ctx) {
  const body = h('div');
  mount(el, h('h2', null, 'Your e-mails'), body);
  section(body, () => get('/me'), (me) => mount(body, prefsForm(me, ctx)));
}
