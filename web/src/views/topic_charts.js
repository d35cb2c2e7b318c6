/*
 * topic_charts.js - the "Sentiment over time" and "Volume" sections of a
 * topic page: the Step and Range selects, one series request feeding both
 * charts, their text summaries and the data table.
 *
 * Both charts show the same buckets, so one request serves both and they
 * can never disagree. The charts are made once and only get new data
 * (see charts.js). Data is fetched again on a timer suited to the step and,
 * debounced, when live comments of the topic arrive, so the newest bucket
 * grows while one watches; a request still in flight is aborted when a new
 * one starts or the page is left. The step and range chosen are kept in
 * the page's address (?step=&range=).
 */

import { h, mount, clear, field } from '../dom.js';
import { loading, errorState } from '../ui.js';
import { fmtInt, fmtNum } from '../format.js';
import { createChart, volumePaths, COLORS } from './charts.js';
import {
  STEPS, RANGES, DEFAULT_RANGE, REFRESH_MS, rangeOf, fetchSeries, toColumns, totals,
  sentimentSummary, volumeSummary,
} from './series.js';
import { seriesTable } from './series_table.js';

/* After live comments, the chart is fetched again this much later (once per burst). */
const NUDGE_MS = { minute: 5000, hour: 15000, day: 15000 };

function fillOptions(sel, options, value) {
  clear(sel);
  for (const o of options) sel.appendChild(h('option', { value: o.value }, o.label));
  sel.value = value;
}

function select(label, options, value, onChange) {
  const el = h('select', { on: { change: onChange } });
  fillOptions(el, options, value);
  return { el, wrap: field({ label, input: el }) };
}

/* an axis as wide as its longest label ("12,000" must not be cut to ",000") */
function axisSize(u, values) {
  const longest = values ? Math.max(...values.map((v) => String(v).length)) : 2;
  return 16 + longest * 7;
}

const countAxis = { scale: 'count', size: axisSize, values: (u, vals) => vals.map((v) => fmtInt(v)) };

function sentimentChart(container, utc) {
  return createChart(container, {
    height: 260,
    utc,
    scales: {
      count: { range: (u, min, max) => [0, Math.max(4, max)] },
      compound: { range: [-1, 1] },
    },
    axes: [
      {},
      countAxis,
      {
        scale: 'compound', side: 1, size: axisSize, grid: { show: false },
        values: (u, vals) => vals.map((v) => fmtNum(v, 1)),
      },
    ],
    /* dash patterns as well as colours, so the lines differ without colour vision */
    series: [
      { label: 'Positive', scale: 'count', stroke: COLORS.positive, width: 2, points: { show: false } },
      { label: 'Neutral', scale: 'count', stroke: COLORS.neutral, width: 2, dash: [8, 4], points: { show: false } },
      { label: 'Negative', scale: 'count', stroke: COLORS.negative, width: 2.5, dash: [2, 3], points: { show: false } },
      { label: 'Mixed', scale: 'count', stroke: COLORS.mixed, width: 2, dash: [12, 3, 3, 3], show: false, points: { show: false } },
      {
        /* uPlot's own point rule (dots only where they fit): a bucket between two empty ones shows */
        label: 'Mean compound', scale: 'compound', stroke: COLORS.compound, width: 1.5,
        value: (u, v) => (v === null || v === undefined ? '–' : fmtNum(v, 2)),
      },
    ],
  });
}

function volumeChart(container, utc) {
  return createChart(container, {
    height: 200,
    utc,
    scales: { count: { range: (u, min, max) => [0, Math.max(4, max)] } },
    axes: [{}, countAxis],
    series: [
      { label: 'Comments', scale: 'count', stroke: COLORS.volume, fill: COLORS.volume, width: 1, paths: volumePaths, points: { show: false } },
    ],
  });
}

/*
 * Builds both sections for topic. Returns {sentiment, volume} elements
 * plus start() (after they are in the document, so the charts know their
 * width), nudge() for live comments, and destroy().
 */
export function topicCharts(topicId, query = {}) {
  let step = STEPS.some((s) => s.value === query.step) ? query.step : 'hour';
  let range = rangeOf(step, query.range || DEFAULT_RANGE[step]);
  let abort = null;
  let timer = null;
  let nudgeTimer = null;
  let charts = null;
  let lastPoints = null;

  const stepSel = select('Step', STEPS, step, () => {
    step = stepSel.el.value;
    range = rangeOf(step, DEFAULT_RANGE[step]);
    fillOptions(rangeSel.el, RANGES[step], range.value);
    remember();
    restart();
  });
  const rangeSel = select('Range', RANGES[step], range.value, () => {
    range = rangeOf(step, rangeSel.el.value);
    remember();
    restart();
  });

  const status = h('div', { class: 'chart-status' });
  const sentimentBox = h('div', { class: 'chart-box', attrs: { 'aria-hidden': 'true' } });
  const sentimentText = h('p', { class: 'chart-summary' });
  const volumeBox = h('div', { class: 'chart-box', attrs: { 'aria-hidden': 'true' } });
  const volumeText = h('p', { class: 'chart-summary' });
  const table = seriesTable();

  const sentiment = h('section', { class: 'card topic-sentiment' },
    h('h2', { id: 'h-sentiment' }, 'Sentiment over time'),
    h('div', { class: 'chart-controls' }, stepSel.wrap, rangeSel.wrap),
    status,
    h('figure', { class: 'chart' }, sentimentBox,
      h('figcaption', null, sentimentText)),
    table.el);

  const volume = h('section', { class: 'card topic-volume' },
    h('h2', { id: 'h-volume' }, 'Volume'),
    h('figure', { class: 'chart' }, volumeBox,
      h('figcaption', null, volumeText)));

  function show(series) {
    const cols = toColumns(series.points);
    const t = totals(series.points);
    /* mixed exists only with the Comprehend engine: hide its line and legend row otherwise */
    charts.sentiment.setShown(4, t.mixed > 0);
    sentimentBox.classList.toggle('no-mixed', t.mixed === 0);
    charts.sentiment.setData([cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]]);
    charts.volume.setData([cols[0], cols[6]]);
    sentimentText.textContent = sentimentSummary(t, step, range);
    volumeText.textContent = volumeSummary(t, step, range, series.points);
    table.update(series.points, step);
    lastPoints = series.points;
  }

  async function load() {
    if (abort) abort.abort();
    const ctl = new AbortController();
    abort = ctl;
    /* the first load says so; refreshes keep the old chart until the new data is in */
    if (!lastPoints) mount(status, loading());
    try {
      const series = await fetchSeries(topicId, step, range, ctl.signal);
      if (ctl.signal.aborted) return;
      clear(status);
      show(series);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      mount(status, errorState(err, () => load()));
    } finally {
      if (abort === ctl) abort = null;
    }
  }

  /*
   * The choice goes into the address (replaceState fires no hashchange, so
   * the page is not rendered again): a reload or a shared link keeps it.
   */
  function remember() {
    const hash = `#/topics/${encodeURIComponent(topicId)}?step=${step}&range=${range.value}`;
    if (location.hash !== hash) history.replaceState(history.state, '', hash);
  }

  function restart() {
    lastPoints = null;
    clearInterval(timer);
    load();
    timer = setInterval(() => {
      if (!document.hidden) load();
    }, REFRESH_MS[step]);
  }

  return {
    sentiment,
    volume,
    start() {
      const utc = () => step === 'day';
      charts = { sentiment: sentimentChart(sentimentBox, utc), volume: volumeChart(volumeBox, utc) };
      restart();
    },
    /* a live comment of this topic arrived: fetch again soon, once for a burst */
    nudge() {
      if (nudgeTimer || !charts) return;
      nudgeTimer = setTimeout(() => {
        nudgeTimer = null;
        if (!abort) load();
      }, NUDGE_MS[step]);
    },
    destroy() {
      if (abort) abort.abort();
      clearInterval(timer);
      clearTimeout(nudgeTimer);
      if (charts) {
        charts.sentiment.destroy();
        charts.volume.destroy();
      }
    },
  };
}
