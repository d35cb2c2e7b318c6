/*
 * charts.js - a thin wrapper over uPlot for the topic page's time charts.
 *
 * One chart object lives as long as its page: new data goes in with
 * setData(), never by building a new chart, because re-creating uPlot
 * (canvas, axes, legend) per refresh costs far more than redrawing. Every
 * draw runs inside uPlot's batch(), which draws synchronously instead of on
 * a microtask, so the performance.mark/measure pair around it
 * ('es-chart-start' / 'es-chart-draw') times the real work; the budget
 * tests read that measure. The chart follows its container's width through
 * a ResizeObserver (no window resize listener, so it also reacts when the
 * layout around it changes).
 *
 * The canvas is hidden from assistive technology: each chart's page gives
 * a text summary and a data table instead (see topic_charts.js).
 */

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/*
 * Colour-blind-safe colours (Okabe-Ito family), each at least 3:1 against
 * the white plot background so lines and bars stay visible.
 */
export const COLORS = {
  positive: '#0072b2',
  neutral: '#6e6e6e',
  negative: '#c24f00',
  mixed: '#a4508b',
  compound: '#1a1a1a',
  volume: '#00785a',
};

function measured(fn) {
  performance.mark('es-chart-start');
  try {
    fn();
  } finally {
    performance.measure('es-chart-draw', 'es-chart-start');
  }
}

function widthOf(el) {
  return Math.max(200, Math.floor(el.clientWidth));
}

/*
 * Creates a chart in container. opts: {height, series, axes, scales} as
 * uPlot takes them (x series first is added here), and utc(): true while
 * the times are to be labelled in UTC (day buckets are UTC days; in the
 * viewer's zone they would be labelled with the evening before). Returns
 * {setData(columns), setShown(seriesIdx, bool), destroy()}.
 */
export function createChart(container, opts) {
  const height = opts.height || 240;
  const utc = opts.utc || (() => false);
  const plot = new uPlot({
    width: widthOf(container),
    height,
    tzDate: (ts) => (utc() ? uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : new Date(ts * 1000)),
    series: [{ label: 'Time' }, ...opts.series],
    axes: opts.axes,
    scales: { x: { time: true }, ...(opts.scales || {}) },
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
  }, [[]], container);

  let lastWidth = widthOf(container);
  const ro = new ResizeObserver(() => {
    const w = widthOf(container);
    if (w === lastWidth) return;
    lastWidth = w;
    measured(() => plot.batch(() => plot.setSize({ width: w, height })));
  });
  ro.observe(container);

  return {
    setData(columns) {
      measured(() => plot.batch(() => plot.setData(columns)));
    },
    setShown(idx, show) {
      if (plot.series[idx] && plot.series[idx].show !== show) {
        plot.setSeries(idx, { show });
      }
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}

const bars = uPlot.paths.bars({ size: [0.8, 40, 1] });
const area = uPlot.paths.linear();

/*
 * Bars for counts per step (the volume chart) while each bar can be a few
 * pixels wide; beyond that a filled line, which uPlot thins to about two
 * points per pixel column, where bars would cost one rectangle per point
 * (1,441 for a day of minutes) and still look like a filled area.
 */
export function volumePaths(u, seriesIdx, idx0, idx1) {
  const dense = idx1 - idx0 + 1 > u.bbox.width / (window.devicePixelRatio || 1) / 3;
  return (dense ? area : bars)(u, seriesIdx, idx0, idx1);
}
