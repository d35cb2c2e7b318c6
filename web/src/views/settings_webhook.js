/*
 * settings_webhook.js - the "Webhook secret" section of #/settings
 * (owners): the key every alert webhook is signed with.
 *
 * The secret is fetched only when asked for ("Show webhook secret"), so it
 * is not on screen, nor in memory, for someone merely opening Settings.
 * Rotating invalidates what every receiver checks against, so it asks
 * first (confirmInline) and then shows the new secret straight away.
 */

import { get, post } from '../api.js';
import { h, mount, uid } from '../dom.js';
import { confirmInline, describe } from '../ui.js';

export function webhookSecret(el) {
  const out = h('div', { class: 'secret-out', attrs: { 'aria-live': 'polite' } });
  const show = h('button', { type: 'button', class: 'btn' }, 'Show webhook secret');
  const rotate = h('button', { type: 'button', class: 'btn btn-danger' }, 'Rotate');

  function reveal(secret) {
    const id = uid('secret');
    const input = h('input', {
      id, type: 'text', value: secret, readOnly: true, spellcheck: false, class: 'secret-value',
      on: { focus: (e) => e.target.select() },
    });
    mount(out, h('div', { class: 'field' }, h('label', { for: id }, 'Webhook secret'), input));
    show.textContent = 'Hide webhook secret';
  }

  function fail(err) {
    mount(out, h('p', { class: 'form-error', role: 'alert' }, describe(err)));
  }

  show.addEventListener('click', async () => {
    if (out.firstChild && show.textContent.startsWith('Hide')) {
      out.replaceChildren();
      show.textContent = 'Show webhook secret';
      return;
    }
    try {
      reveal((await get('/settings/webhook-secret')).secret);
    } catch (err) {
      fail(err);
    }
  });
  rotate.addEventListener('click', async () => {
    const sure = await confirmInline(rotate,
      'Rotate the secret? Webhooks are signed with the new one from now on; receivers checking the old one will reject them until updated.',
      'Yes, rotate');
    if (!sure) return;
    try {
      reveal((await post('/settings/webhook-secret')).secret);
    } catch (err) {
      fail(err);
    }
  });

  mount(el, h('h2', null, 'Webhook secret'),
    h('p', { class: 'help' },
      'Every alert webhook carries X-EchoStream-Signature: t=<unix seconds>,v1=<hex>, the HMAC-SHA256 of "<t>.<body>" keyed with this secret. Check it to know a post came from EchoStream.'),
    h('div', { class: 'actions' }, show, rotate), out);
}
