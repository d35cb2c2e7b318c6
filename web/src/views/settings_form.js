/*
 * settings_form.js - the team's settings (GET/PATCH /settings): sentiment
 * engine, Comprehend budget, retention, when daily summaries are written
 * and the Bedrock budget.
 *
 * Owners get a form; members the same values as read-only text (the API
 * would refuse their change anyway, and disabled controls are skipped by
 * keyboard and screen readers alike). The API judges every value (bounds,
 * the operator's budget caps, whether a time zone exists on the server)
 * and its error is shown at the control its `field` names. An empty
 * budget means "none" for Comprehend and "the default" for Bedrock, which
 * is what null means to the API for each.
 */

import { patch } from '../api.js';
import { clearFieldErrors, field, h, mount, showFieldErrors } from '../dom.js';
import { fmtUsd } from '../format.js';
import { toast } from '../ui.js';
import { showSaveError } from './form_errors.js';
import './figures.css';

const ENGINES = [['vader', 'VADER (built in, no cost)'], ['comprehend', 'Amazon Comprehend (billed per comment)']];
const ZONES = ['UTC', 'Europe/London', 'Europe/Dublin', 'Europe/Lisbon', 'Europe/Paris',
  'Europe/Berlin', 'Europe/Madrid', 'Europe/Rome', 'Europe/Amsterdam', 'Europe/Stockholm',
  'Europe/Warsaw', 'Europe/Athens', 'Europe/Helsinki', 'Europe/Istanbul', 'Europe/Moscow',
  'Africa/Cairo', 'Africa/Johannesburg', 'Africa/Lagos', 'Africa/Nairobi', 'Asia/Dubai',
  'Asia/Karachi', 'Asia/Kolkata', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Jakarta',
  'Asia/Singapore', 'Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Seoul',
  'Asia/Tokyo', 'Australia/Perth', 'Australia/Adelaide', 'Australia/Sydney',
  'Pacific/Auckland', 'Pacific/Honolulu', 'America/Anchorage', 'America/Los_Angeles',
  'America/Denver', 'America/Phoenix', 'America/Chicago', 'America/Mexico_City',
  'America/New_York', 'America/Toronto', 'America/Halifax', 'America/Bogota',
  'America/Lima', 'America/Santiago', 'America/Sao_Paulo',
  'America/Argentina/Buenos_Aires'];

function hourText(n) {
  return `${String(n).padStart(2, '0')}:00`;
}

function readOnly(s) {
  const engine = ENGINES.find(([v]) => v === s.engine);
  const rows = [
    ['Sentiment engine', engine ? engine[1] : s.engine],
    ['Comprehend budget', s.comprehend_budget_usd === null ? 'none set' : `${fmtUsd(s.comprehend_budget_usd)} a month`],
    ['Keep data for', `${s.retention_days} days`],
    ['Daily summaries written at', `${hourText(s.summary_hour)} (${s.time_zone})`],
    ['Bedrock budget', `${fmtUsd(s.bedrock_budget_usd)} a month`],
  ];
  return h('div', null,
    h('dl', { class: 'figures' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
    h('p', { class: 'help' }, 'Only owners of the team can change these.'));
}

function money(value) {
  return h('input', {
    type: 'number', min: 0, step: 'any', inputMode: 'decimal',
    value: value === null || value === undefined ? '' : String(value),
  });
}

/* The body for PATCH /settings; pushes {field, message} for unreadable numbers. */
function bodyOf(form, errors) {
  const el = form.elements;
  const num = (name, empty) => {
    const input = el.namedItem(name);
    if (input.validity.badInput) errors.push({ field: name, message: 'Enter a number.' });
    return input.value.trim() === '' ? empty : Number(input.value);
  };
  return {
    engine: el.namedItem('engine').value,
    comprehend_budget_usd: num('comprehend_budget_usd', null),
    retention_days: num('retention_days', undefined),
    summary_hour: Number(el.namedItem('summary_hour').value),
    time_zone: el.namedItem('time_zone').value.trim(),
    bedrock_budget_usd: num('bedrock_budget_usd', null),
  };
}

function editable(s, onSaved) {
  const engine = h('select', null, ENGINES.map(([v, t]) => h('option', { value: v }, t)));
  engine.value = s.engine;
  const hour = h('select', null,
    Array.from({ length: 24 }, (_, i) => h('option', { value: String(i) }, hourText(i))));
  hour.value = String(s.summary_hour);
  const listId = 'settings-zones';
  const zone = h('input', { type: 'text', value: s.time_zone, autocomplete: 'off', attrs: { list: listId } });
  const form = h('form', { class: 'form settings-form', noValidate: true },
    field({ label: 'Sentiment engine', input: engine, name: 'engine' }),
    field({
      label: 'Comprehend budget (USD a month)', input: money(s.comprehend_budget_usd),
      name: 'comprehend_budget_usd', help: 'Past it, comments are scored with VADER. Empty: no budget.',
    }),
    field({
      label: 'Keep data for (days)',
      input: h('input', { type: 'number', min: 1, max: 365, step: 1, inputMode: 'numeric', value: String(s.retention_days) }),
      name: 'retention_days', help: '1 to 365 days.',
    }),
    field({ label: 'Daily summary hour', input: hour, name: 'summary_hour', help: 'When the summaries of the day before are written, in the time zone below.' }),
    field({ label: 'Time zone', input: zone, name: 'time_zone', help: 'An IANA name such as Europe/Berlin or America/New_York.' }),
    h('datalist', { id: listId }, ZONES.map((z) => h('option', { value: z }))),
    field({
      label: 'Bedrock budget (USD a month)', input: money(s.bedrock_budget_usd),
      name: 'bedrock_budget_usd', help: 'Past it, summaries are written locally; 0 never uses Bedrock. Empty: the default, $1.00.',
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save settings')));

  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clearFieldErrors(form);
    const errors = [];
    const body = bodyOf(form, errors);
    if (errors.length) {
      showFieldErrors(form, errors[0]);
      return;
    }
    busy = true;
    try {
      const saved = await patch('/settings', body);
      /* show what is stored: an empty Bedrock budget came back as the default */
      for (const name of ['comprehend_budget_usd', 'bedrock_budget_usd', 'time_zone']) {
        const v = saved[name];
        form.elements.namedItem(name).value = v === null || v === undefined ? '' : String(v);
      }
      toast('Settings saved.');
      onSaved(saved);
    } catch (err) {
      showSaveError(form, err);
    } finally {
      busy = false;
    }
  });
  return form;
}

/* Shows the settings in el; onSaved(settings) after an owner saved them. */
export function settingsForm(el, settings, owner, onSaved = () => {}) {
  mount(el, owner ? editable(settings, onSaved) : readOnly(settings));
}
