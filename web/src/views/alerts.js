/*
 * alerts.js - #/alerts: the tenant's alert rules and the alert history.
 *
 * A rule names its topic by id, so the topics are read alongside to show
 * names (a rule whose topic is gone says so). Owners get "Edit" and an
 * "Enable"/"Disable" toggle per rule (PATCH of `enabled` alone, so a
 * concurrent edit of the rule's other members is not overwritten); members
 * see the same facts without the buttons. The history lives in
 * alert_history.js, the form in alert_form.js.
 */

import { get, patch } from '../api.js';
import { h, mount } from '../dom.js';
import { fmtNum, fmtInt } from '../format.js';
import { describe, empty, section, toast } from '../ui.js';
import { alertHistory } from './alert_history.js';
import { metricOf, minutes } from './alert_metric.js';
import './alerts.css';
import './figures.css';

function facts(rule) {
  const rows = [
    ['Metric', metricOf(rule.metric).name],
    ['Window', minutes(rule.window_minutes)],
    ['Status', rule.enabled ? 'Enabled' : 'Disabled'],
    ['Sensitivity', fmtNum(rule.sensitivity, 1)],
    ['Minimum volume', `${fmtInt(rule.min_volume)} comments`],
    ['Cool-down', minutes(rule.cooldown_minutes)],
    ['E-mail', rule.email.length ? `${rule.email.join(', ')}, and members who opted in` : 'members who opted in'],
    ['Webhook', rule.webhook || 'none'],
  ];
  return h('dl', { class: 'figures' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

export function render(root, params, ctx) {
  ctx.setTitle('Alerts');
  const names = new Map();
  const topicName = (id) => names.get(id) || `${id} (deleted topic)`;
  const rulesEl = h('div', { class: 'alert-rules' });
  const historyEl = h('section', { class: 'alert-history-section' });

  function ruleItem(rule) {
    const li = h('li', { class: rule.enabled ? 'alert-rule' : 'alert-rule is-disabled', dataset: { id: rule.id } });
    const fill = () => {
      const buttons = ctx.isOwner() ? h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'btn',
          on: { click: () => ctx.navigate(`#/alerts/${encodeURIComponent(rule.id)}/edit`) },
        }, 'Edit'),
        h('button', { type: 'button', class: 'btn', on: { click: toggle } },
          rule.enabled ? 'Disable' : 'Enable')) : null;
      mount(li, h('h3', null, topicName(rule.topic)), facts(rule), buttons);
      li.className = rule.enabled ? 'alert-rule' : 'alert-rule is-disabled';
    };
    async function toggle(e) {
      const btn = e.currentTarget;
      const want = !rule.enabled;
      btn.setAttribute('aria-busy', 'true');
      try {
        Object.assign(rule, await patch(`/alerts/rules/${encodeURIComponent(rule.id)}`, { enabled: want }));
        fill();
        toast(`Rule for ${topicName(rule.topic)} ${rule.enabled ? 'enabled' : 'disabled'}.`);
        /* the button was rebuilt: give the keyboard its successor */
        li.querySelector('.actions button:last-child').focus();
      } catch (err) {
        btn.removeAttribute('aria-busy');
        toast(`The rule could not be changed: ${describe(err)}`, 'error');
      }
    }
    fill();
    return li;
  }

  mount(root,
    h('div', { class: 'page-head' },
      h('h1', null, 'Alerts'),
      ctx.isOwner() ? h('a', { class: 'btn btn-primary', href: '#/alerts/new' }, 'New rule') : null),
    h('p', { class: 'lede' },
      'A rule watches one topic and fires when the recent comments stand out from the same window over the previous 7 days.'),
    h('section', null, h('h2', null, 'Rules'), rulesEl),
    historyEl);

  /* topic names, read once for the rules and the history alike */
  let namesRead = null;
  const readNames = () => {
    namesRead = namesRead || get('/topics').then((t) => {
      for (const topic of t.topics) names.set(topic.id, topic.name);
    }, (err) => { namesRead = null; throw err; });
    return namesRead;
  };

  section(rulesEl,
    () => Promise.all([get('/alerts/rules'), readNames()]),
    ([r]) => {
      if (r.rules.length === 0) {
        mount(rulesEl, empty('No alert rules yet', ctx.isOwner()
          ? h('a', { class: 'btn', href: '#/alerts/new' }, 'New rule') : null));
      } else {
        mount(rulesEl, h('ul', { class: 'alert-rule-list' }, r.rules.map(ruleItem)));
      }
    });
  /* events name topics too; without names they still show, by id */
  const stopHistory = alertHistory(historyEl, topicName, readNames().catch(() => null));
  return stopHistory;
}
