/*
 * alert_form.js - #/alerts/new and #/alerts/:id/edit: an alert rule's form
 * (owners), with "Delete rule" when editing.
 *
 * The API is the one judge of a rule (lib/es_req_rule.c checks every
 * member), so the form does not second-guess it: it sends what was typed
 * (an empty number means "the default", left out) and shows the API's
 * error at the control its `field` names. Browser validation is off
 * (novalidate) for the same reason, and because its bubbles vanish before
 * a screen-reader user can read them. Editing replaces the whole rule
 * (PUT), since the form shows every member.
 */

import { del, get, post, put } from '../api.js';
import { clearFieldErrors, field, formError, h, mount, showFieldErrors } from '../dom.js';
import { confirmInline, empty, markReady, section, toast } from '../ui.js';
import { METRICS, metricOf } from './alert_metric.js';
import { showSaveError } from './form_errors.js';
import './alerts.css';

const DEFAULTS = {
  metric: 'negative_share', window_minutes: 60, min_volume: 20, sensitivity: 3,
  cooldown_minutes: 60, email: [], webhook: null, enabled: true,
};

function numberInput(value, { min, max, step }) {
  return h('input', {
    type: 'number', inputMode: step === 'any' ? 'decimal' : 'numeric',
    value: value === undefined || value === null ? '' : String(value),
    min, max, step,
  });
}

/* A number control's value for the body: undefined (default) or a number. */
function numberOf(input, errors) {
  if (input.validity.badInput) {
    errors.push({ field: input.name, message: 'Enter a number.' });
    return undefined;
  }
  return input.value.trim() === '' ? undefined : Number(input.value);
}

function build(el, ctx, topics, rule) {
  const editing = Boolean(rule && rule.id);
  const r = { ...DEFAULTS, ...(rule || {}) };
  const topic = h('select', null, topics.map((t) => h('option', { value: t.id }, t.name)));
  if (r.topic && !topics.some((t) => t.id === r.topic)) {
    /* keep a rule's deleted topic visible rather than silently picking another */
    topic.prepend(h('option', { value: r.topic }, `${r.topic} (deleted topic)`));
  }
  if (r.topic) topic.value = r.topic;
  const metric = h('select', null, METRICS.map((m) => h('option', { value: m.id }, m.name)));
  metric.value = r.metric;
  const metricHelp = h('span', null, metricOf(r.metric).help);
  metric.addEventListener('change', () => { metricHelp.textContent = metricOf(metric.value).help; });
  const windowMin = numberInput(r.window_minutes, { min: 5, max: 1440, step: 1 });
  const minVolume = numberInput(r.min_volume, { min: 0, step: 1 });
  const sensitivity = numberInput(r.sensitivity, { min: 0, step: 'any' });
  const cooldown = numberInput(r.cooldown_minutes, { min: 0, step: 1 });
  const email = h('input', { type: 'text', value: r.email.join(', '), autocomplete: 'off' });
  const webhook = h('input', { type: 'url', value: r.webhook || '', placeholder: 'https://', autocomplete: 'off' });
  const enabled = h('input', { type: 'checkbox', checked: r.enabled });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save rule');

  const form = h('form', { class: 'form alert-form', noValidate: true },
    field({ label: 'Topic', input: topic, name: 'topic' }),
    field({ label: 'Metric', input: metric, name: 'metric', help: metricHelp }),
    field({ label: 'Window (minutes)', input: windowMin, name: 'window_minutes', help: 'The recent stretch compared with the same stretch over the previous 7 days: 5 to 1440.' }),
    field({ label: 'Minimum volume', input: minVolume, name: 'min_volume', help: 'Comments the window must hold before the rule can fire.' }),
    field({ label: 'Sensitivity', input: sensitivity, name: 'sensitivity', help: 'How many standard deviations from usual count as a spike; higher fires less often (3 is a good start).' }),
    field({ label: 'Cool-down (minutes)', input: cooldown, name: 'cooldown_minutes', help: 'Quiet time after an alert.' }),
    field({ label: 'E-mail addresses', input: email, name: 'email', help: 'Up to 10, separated by commas or spaces. Members who turned on alert e-mails in Settings get them as well.' }),
    field({ label: 'Webhook URL', input: webhook, name: 'webhook', help: 'Optional. Receives a Slack-compatible JSON post, signed with the webhook secret shown in Settings.' }),
    field({ label: 'Enabled', input: enabled, name: 'enabled' }),
    h('div', { class: 'actions' }, save,
      h('a', { class: 'btn', href: '#/alerts' }, 'Cancel')));

  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clearFieldErrors(form);
    const errors = [];
    const body = {
      topic: topic.value,
      metric: metric.value,
      window_minutes: numberOf(windowMin, errors),
      min_volume: numberOf(minVolume, errors),
      sensitivity: numberOf(sensitivity, errors),
      cooldown_minutes: numberOf(cooldown, errors),
      email: email.value.split(/[\s,;]+/).filter(Boolean),
      webhook: webhook.value.trim() || null,
      enabled: enabled.checked,
    };
    if (errors.length) {
      showFieldErrors(form, errors[0]);
      return;
    }
    busy = true;
    try {
      if (editing) await put(`/alerts/rules/${encodeURIComponent(rule.id)}`, body);
      else await post('/alerts/rules', body);
      toast('Rule saved.');
      ctx.navigate('#/alerts');
    } catch (err) {
      showSaveError(form, err);
    } finally {
      busy = false;
    }
  });

  let danger = null;
  if (editing) {
    const remove = h('button', { type: 'button', class: 'btn btn-danger' }, 'Delete rule');
    remove.addEventListener('click', async () => {
      if (!await confirmInline(remove, 'Delete this rule? Its past alerts stay in the history.', 'Yes, delete')) return;
      try {
        await del(`/alerts/rules/${encodeURIComponent(rule.id)}`);
        toast('Rule deleted.');
        ctx.navigate('#/alerts');
      } catch (err) {
        const line = formError(form);
        line.textContent = `The rule could not be deleted: ${err.message}`;
        line.hidden = false;
      }
    });
    danger = h('section', { class: 'danger-zone' }, h('h2', null, 'Delete this rule'), remove);
  }
  mount(el, form, danger);
}

export function render(root, params, ctx) {
  const editing = Boolean(params.id);
  const title = editing ? 'Edit alert rule' : 'New alert rule';
  ctx.setTitle(title);
  const body = h('div');
  mount(root, h('h1', null, title), body);
  if (!ctx.isOwner()) {
    mount(body, empty('Only owners of the team can change alert rules.',
      h('a', { class: 'btn', href: '#/alerts' }, 'Back to alerts')));
    markReady();
    return undefined;
  }
  section(body,
    () => Promise.all([
      get('/topics'),
      editing ? get(`/alerts/rules/${encodeURIComponent(params.id)}`) : null,
    ]),
    ([t, rule]) => {
      if (t.topics.length === 0) {
        mount(body, empty('A rule watches a topic: create a topic first.',
          h('a', { class: 'btn', href: '#/topics/new' }, 'New topic')));
        return;
      }
      build(body, ctx, t.topics, rule);
    });
  return undefined;
}
