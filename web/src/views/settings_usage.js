/*
 * settings_usage.js - the "Usage" section of #/settings: this month's
 * comments, Comprehend and Bedrock calls, tokens and spend (GET /usage),
 * each spend against its budget.
 *
 * A spend against a budget is a <progress> labelled by a visible line that
 * also says the figures in words ("$0.41 of $25.00, 2%"), so the bar adds
 * a picture and takes nothing away when it cannot be seen. A spend with no
 * budget (Comprehend's may be unset) gets the words alone.
 *
 * When the server has a price file, /usage also predicts the month
 * (prediction, docs/cost.md): shown as one sentence that says how it is
 * made (the metered spend at this month's pace plus the team's share of
 * the server), so the figure is never taken for a bill.
 */

import { h, uid } from '../dom.js';
import { fmtInt, fmtUsd } from '../format.js';
import './figures.css';

function meter(title, spent, budget) {
  if (budget === null || budget === undefined) {
    return h('p', { class: 'usage-line' }, `${title}: ${fmtUsd(spent)} this month (no budget set).`);
  }
  if (budget === 0) {
    return h('p', { class: 'usage-line' }, `${title}: ${fmtUsd(spent)} this month; the budget is $0, so it is not used.`);
  }
  const id = uid('usage');
  const pct = Math.round((spent / budget) * 100);
  const bar = h('progress', { id, max: budget, value: Math.min(spent, budget) });
  return h('div', { class: pct >= 100 ? 'usage-meter is-over' : 'usage-meter' },
    h('label', { for: id }, `${title}: ${fmtUsd(spent)} of ${fmtUsd(budget)} (${pct}%)${pct >= 100 ? ', budget reached' : ''}`),
    bar);
}

function row(k, v) {
  return [h('dt', null, k), h('dd', null, v)];
}

/* a prediction is not exact: whole cents */
const cents = (x) => fmtUsd(Math.round(x * 100) / 100);

function prediction(p) {
  const share = p.tenants === 1 ? 'the whole' : `a 1/${fmtInt(p.tenants)} share`;
  return h('p', { class: 'usage-line usage-prediction' },
    `Predicted for the month: ${cents(p.month_usd)}. That is ${fmtUsd(p.metered_usd)} `
    + `of Comprehend and Bedrock so far, ${cents(p.metered_month_usd)} at this pace, `
    + `plus ${share} of the server's ${cents(p.fixed_usd)} a month (${p.instance}; `
    + `AWS list prices of ${p.prices_date}).`);
}

/* The section's content for a /usage answer. */
export function usageView(u) {
  return h('div', { class: 'usage' },
    h('p', null, `Month ${u.month} (UTC), counted so far.`),
    h('dl', { class: 'figures' },
      row('Comments scored', fmtInt(u.comments)),
      row('Engine in use', u.engine === 'comprehend' ? 'Amazon Comprehend' : 'VADER'),
      row('Comprehend units', fmtInt(u.comprehend_units)),
      row('Summaries written', fmtInt(u.summaries)),
      row('Bedrock tokens', `${fmtInt(u.bedrock_input_tokens)} in, ${fmtInt(u.bedrock_output_tokens)} out`)),
    meter('Comprehend spend', u.comprehend_usd, u.budget_usd),
    meter('Bedrock spend', u.bedrock_usd, u.bedrock_budget_usd),
    u.prediction ? prediction(u.prediction) : null);
}
