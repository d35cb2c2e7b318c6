/*
 * routes.js - every page of the dashboard: its hash path, its view and
 * its title. `public` pages are the account screens (no session needed).
 */

import * as account from './views/auth.js';
import * as topics from './views/topics.js';
import * as topicForm from './views/topic_form.js';
import * as topic from './views/topic.js';
import * as alertForm from './views/alert_form.js';
import * as alerts from './views/alerts.js';
import * as exportCsv from './views/export.js';
import * as settings from './views/settings.js';
import * as share from './views/share.js';
import * as summaries from './views/summaries.js';
import * as team from './views/team.js';

export const ROUTES = [
  { path: '/signin', view: account.signIn, title: 'Sign in', public: true },
  { path: '/signup', view: account.signUp, title: 'Create an account', public: true },
  { path: '/confirm', view: account.confirm, title: 'Confirm your e-mail', public: true },
  { path: '/forgot', view: account.forgot, title: 'Reset your password', public: true },
  { path: '/topics', view: topics.render, title: 'Topics' },
  { path: '/topics/new', view: topicForm.render, title: 'New topic' },
  { path: '/topics/:id', view: topic.render, title: 'Topic' },
  { path: '/topics/:id/edit', view: topicForm.render, title: 'Edit topic' },
  { path: '/share', view: share.render, title: 'Share of voice' },
  { path: '/summaries', view: summaries.render, title: 'Summaries' },
  { path: '/alerts', view: alerts.render, title: 'Alerts' },
  { path: '/alerts/new', view: alertForm.render, title: 'New alert rule' },
  { path: '/alerts/:id/edit', view: alertForm.render, title: 'Edit alert rule' },
  { path: '/team', view: team.render, title: 'Team' },
  { path: '/settings', view: settings.render, title: 'Settings' },
  { path: '/export', view: exportCsv.render, title: 'Export' },
];
