/*
 * series_table.js - the charts' data as a table, behind a <details>
 * toggle: the way to read exact numbers by keyboard or screen reader,
 * which a canvas cannot offer.
 *
 * A day of minutes is 1,441 rows, so the table is built only while the
 * toggle is open and rebuilt on new data only then; a closed toggle costs
 * nothing on refresh.
 */

import { h, mount } from '../dom.js';
import { fmtInt, fmtNum } from '../format.js';
import { fmtBucket } from './series.js';

export function seriesTable() {
  let data = null;
  /* a scrolling box: focusable and named, so keyboard users can scroll it too */
  const body = h('div', { class: 'series-table-wrap', tabIndex: 0, role: 'region', attrs: { 'aria-label': 'Chart data' } });
  const el = h('details', { class: 'series-table' },
    h('summary', null, 'Data table'),
    body);

  function build() {
    if (!el.open || !data) return;
    const { points, step } = data;
    const rows = [];
    /* newest first: the rows people look for are the recent ones */
    for (let i = points.length - 1; i >= 0; i -= 1) {
      const p = points[i];
      rows.push(h('tr', null,
        h('th', { scope: 'row' }, fmtBucket(p.t, step)),
        h('td', null, fmtInt(p.n)),
        h('td', null, fmtInt(p.positive)),
        h('td', null, fmtInt(p.neutral)),
        h('td', null, fmtInt(p.negative)),
        h('td', null, fmtInt(p.mixed)),
        h('td', null, p.n > 0 ? fmtNum(p.compound, 2) : '–')));
    }
    mount(body, h('table', null,
      h('caption', null, `Comments per ${step}, newest first`),
      h('thead', null, h('tr', null,
        ['Start', 'Comments', 'Positive', 'Neutral', 'Negative', 'Mixed', 'Mean compound']
          .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows)));
  }

  el.addEventListener('toggle', build);

  return {
    el,
    update(points, step) {
      data = { points, step };
      build();
    },
  };
}
