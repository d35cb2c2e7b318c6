/*
 * settings.js - #/settings: the team's settings, this month's usage
 * against its budgets, the user's own e-mail opt-ins and (owners) the
 * webhook secret.
 *
 * Each section loads and fails on its own (ui.section), so a slow /usage
 * does not hold up the form, and an error in one leaves the others
 * usable. Saving the settings re-reads the usage, whose budgets come from
 * them.
 */

import { get } from '../api.js';
import { h, mount } from '../dom.js';
import { section } from '../ui.js';
import { emailPrefs } from './settings_email.js';
import { settingsForm } from './settings_form.js';
import { usageView } from './settings_usage.js';
import { webhookSecret } from './settings_webhook.js';
import './settings.css';

export function render(root, params, ctx) {
  ctx.setTitle('Settings');
  const owner = ctx.isOwner();
  const settingsBody = h('div');
  const usageBody = h('div');
  const emailEl = h('section', { class: 'settings-section' });
  const secretEl = owner ? h('section', { class: 'settings-section' }) : null;

  mount(root, h('h1', null, 'Settings'),
    h('section', { class: 'settings-section' }, h('h2', null, 'Team settings'), settingsBody),
    h('section', { class: 'settings-section' }, h('h2', null, 'Usage'), usageBody),
    emailEl, secretEl);

  const loadUsage = () => section(usageBody, () => get('/usage'), (u) => mount(usageBody, usageView(u)));
  section(settingsBody, () => get('/settings'),
    (s) => settingsForm(settingsBody, s, owner, () => loadUsage()));
  loadUsage();
  emailPrefs(emailEl, ctx);
  if (owner) webhookSecret(secretEl);
  return undefined;
}
