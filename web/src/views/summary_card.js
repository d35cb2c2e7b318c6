/*
 * summary_card.js - one summary as an <article class="summary">.
 *
 * A summary's text quotes comments written by anyone, so it is shown as
 * text (white-space keeps its paragraphs and list lines), never parsed.
 * Next to it: the day and who wrote it (Amazon Bedrock or the local
 * summariser, and why Bedrock was not used when it was not), then the
 * figures it was written from, so a reader can check a sentence against
 * the numbers, and the comments it quotes with their links to Reddit.
 */

import { h } from '../dom.js';
import { fmtInt, fmtNum, fmtPct, fmtTime, fmtUsd, sentimentOf } from '../format.js';
import { redditLink } from './reddit_link.js';
import './figures.css';

const ROLES = {
  most_negative: 'Most negative', most_positive: 'Most positive',
  top_score: 'Highest score', sample: 'Sample',
};

/* The API's own word for the source (bedrock / local), then what it means. */
function sourceText(s) {
  if (s.source === 'bedrock') return `source: bedrock (Amazon Bedrock${s.model ? `, ${s.model}` : ''})`;
  return 'source: local (the built-in summariser)';
}

function change(now, before) {
  if (!Number.isFinite(before) || before === 0) return '';
  const d = (now - before) / before;
  return ` (${d >= 0 ? '+' : ''}${Math.round(d * 100)}% on the period before)`;
}

function figureList(fig) {
  const now = fig.now || {};
  const before = fig.before || {};
  const n = now.comments || 0;
  const share = (k) => (n ? ` (${fmtPct(now[k] / n)})` : '');
  const rows = [
    ['Comments', `${fmtInt(n)}${change(n, before.comments)}`],
    ['Positive', `${fmtInt(now.positive)}${share('positive')}`],
    ['Neutral', `${fmtInt(now.neutral)}${share('neutral')}`],
    ['Negative', `${fmtInt(now.negative)}${share('negative')}`],
    ['Mixed', `${fmtInt(now.mixed)}${share('mixed')}`],
    ['Mean compound', `${fmtNum(now.mean_compound, 2)} (before: ${fmtNum(before.mean_compound, 2)})`],
  ];
  return h('dl', { class: 'figures' },
    rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function termList(terms) {
  if (!Array.isArray(terms) || terms.length === 0) return null;
  return h('p', { class: 'summary-terms' }, 'Trending terms: ',
    terms.map((t, i) => [i ? ', ' : '', h('span', { class: 'term' }, t.term),
      ` ${fmtInt(t.count)}${Number.isFinite(t.before) ? ` (before ${fmtInt(t.before)})` : ''}`]));
}

function quoted(comments) {
  if (!Array.isArray(comments) || comments.length === 0) return null;
  return h('ul', { class: 'summary-comments' }, comments.map((c) => h('li', null,
    h('span', { class: `badge ${sentimentOf(c.label)}` }, sentimentOf(c.label)),
    ` ${ROLES[c.role] || c.role || 'Comment'} · compound ${fmtNum(c.compound, 2)} · score ${fmtInt(c.score)} `,
    redditLink(c.link))));
}

/* The article; topicName(id) names the topic (null: the whole tenant). */
export function summaryCard(s, topicName) {
  const fig = s.figures || null;
  const title = s.title || (s.topic ? topicName(s.topic) : 'All topics');
  const period = fig && fig.period
    ? `${fmtTime(fig.period.from)} – ${fmtTime(fig.period.to)}${fig.period.time_zone ? ` (${fig.period.time_zone})` : ''}`
    : null;
  const meta = [
    `Day ${s.date}`,
    s.kind === 'request' ? 'requested' : (s.kind === 'daily' ? 'daily' : null),
    `written ${fmtTime(s.created)}`,
    sourceText(s),
    s.source === 'bedrock' && Number.isFinite(s.cost_usd) ? `cost ${fmtUsd(s.cost_usd)}` : null,
  ].filter(Boolean).join(' · ');
  return h('article', { class: 'summary', dataset: { id: s.id } },
    h('h3', null, title),
    h('p', { class: 'summary-meta' }, meta),
    s.fallback_reason
      ? h('p', { class: 'summary-fallback' }, `Bedrock was not used: ${s.fallback_reason}`) : null,
    period ? h('p', { class: 'summary-period' }, `Period: ${period}`) : null,
    h('div', { class: 'summary-text' }, s.text),
    fig ? h('details', { class: 'summary-figures' },
      h('summary', null, 'Figures'),
      figureList(fig), termList(fig.terms), quoted(fig.comments)) : null);
}
