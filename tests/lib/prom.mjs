// prom.mjs - a strict reader of the Prometheus text format (0.0.4) for the
// metrics suites, and the list of the worker families /metrics promises.
//
// Strict on purpose: every sample line must be name{labels} value, every
// family must have its HELP and TYPE before its first sample, a family's
// samples must be contiguous, no series may repeat, a histogram's buckets
// must be cumulative and end in +Inf equal to _count. Any breach throws,
// naming the line, so a scrape that a real Prometheus would choke on (or
// silently misread) fails the test.

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/;
const VALUE = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]Inf)$/;

// The family a sample name belongs to, given the TYPE lines seen.
function familyOf(name, families) {
  if (families.has(name)) return name;
  for (const sfx of ['_bucket', '_sum', '_count']) {
    const base = name.slice(0, -sfx.length);
    if (name.endsWith(sfx) && families.get(base)?.type === 'histogram') return base;
  }
  return null;
}

function parseLabels(text, where) {
  const labels = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`${where}: bad labels {${text}}`);
    if (m[1] in labels) throw new Error(`${where}: label ${m[1]} twice`);
    labels[m[1]] = m[2].replace(/\\(["\\n])/g, (_, c) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

// { families: Map(name -> {help, type, samples: [{name, labels, value}]}) }
export function parseProm(text) {
  const families = new Map();
  const seen = new Set();
  const done = new Set(); // families whose samples have ended
  let current = null;
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('exposition must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} "${line.slice(0, 120)}"`;
    let m;
    if ((m = /^# HELP (\S+) (.*)$/.exec(line))) {
      if (!NAME.test(m[1])) throw new Error(`${where}: bad name`);
      if (families.has(m[1])) throw new Error(`${where}: family twice`);
      families.set(m[1], { help: m[2], type: null, samples: [] });
      if (current) done.add(current);
      current = m[1];
      return;
    }
    if ((m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      const f = families.get(m[1]);
      if (!f || current !== m[1] || f.type) throw new Error(`${where}: TYPE without its HELP just before`);
      f.type = m[2];
      return;
    }
    if (line.startsWith('#')) throw new Error(`${where}: unknown comment`);
    m = /^([^\s{]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !NAME.test(m[1]) || !VALUE.test(m[3])) throw new Error(`${where}: not name{labels} value`);
    const fam = familyOf(m[1], families);
    if (!fam || !families.get(fam).type) throw new Error(`${where}: sample before its HELP and TYPE`);
    if (fam !== current || done.has(fam)) throw new Error(`${where}: samples of ${fam} not contiguous`);
    const labels = parseLabels(m[2] || '', where);
    const key = `${m[1]}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    seen.add(key);
    families.get(fam).samples.push({ name: m[1], labels, value: Number(m[3]) });
  });
  for (const [name, f] of families) {
    if (f.type === 'histogram') checkHistogram(name, f);
  }
  return families;
}

function checkHistogram(name, f) {
  const groups = new Map();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const k = JSON.stringify(rest);
    if (!groups.has(k)) groups.set(k, { buckets: [], count: null, sum: null });
    const g = groups.get(k);
    if (s.name === `${name}_bucket`) g.buckets.push([le, s.value]);
    else if (s.name === `${name}_count`) g.count = s.value;
    else if (s.name === `${name}_sum`) g.sum = s.value;
    else throw new Error(`${name}: plain sample in a histogram`);
  }
  for (const [k, g] of groups) {
    const les = g.buckets.map(([le]) => (le === '+Inf' ? Infinity : Number(le)));
    if (les.at(-1) !== Infinity) throw new Error(`${name}${k}: no +Inf bucket`);
    for (let i = 1; i < les.length; i++) {
      if (!(les[i] > les[i - 1])) throw new Error(`${name}${k}: le not ascending`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new Error(`${name}${k}: buckets not cumulative`);
    }
    if (g.count !== g.buckets.at(-1)[1] || g.sum === null) {
      throw new Error(`${name}${k}: _count must equal the +Inf bucket, _sum must be there`);
    }
  }
}

// The value of the one sample of family name whose labels include want.
export function value(families, name, want = {}) {
  const [fam] = [name, name.replace(/_(bucket|sum|count)$/, '')].filter((n) => families.has(n));
  if (!fam) return undefined;
  const hits = families.get(fam).samples.filter((s) => s.name === name &&
    Object.entries(want).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(want)}: ${hits.length} samples`);
  return hits[0]?.value;
}

// Every worker family /metrics prints (HELP and TYPE), samples or not.
export const WORKER_FAMILIES = {
  echostream_worker_up: 'gauge',
  echostream_worker_heartbeat_age_seconds: 'gauge',
  echostream_ingest_comments_total: 'counter',
  echostream_ingest_duplicates_total: 'counter',
  echostream_ingest_poll_duration_seconds: 'histogram',
  echostream_reddit_requests_total: 'counter',
  echostream_reddit_ratelimited_total: 'counter',
  echostream_reddit_ratelimit_remaining: 'gauge',
  echostream_reddit_ratelimit_used: 'gauge',
  echostream_reddit_budget_qpm: 'gauge',
  echostream_reddit_required_qpm: 'gauge',
  echostream_enrich_entries_total: 'counter',
  echostream_enrich_comments_total: 'counter',
  echostream_enrich_failed_total: 'counter',
  echostream_enrich_dead_letters_total: 'counter',
  echostream_enrich_batch_duration_seconds: 'histogram',
  echostream_comprehend_calls_total: 'counter',
  echostream_comprehend_failures_total: 'counter',
  echostream_comprehend_units_total: 'counter',
  echostream_comprehend_spend_usd_total: 'counter',
  echostream_sqs_messages_sent_total: 'counter',
  echostream_sqs_messages_failed_total: 'counter',
  echostream_sqs_batches_failed_total: 'counter',
  echostream_mirror_send_duration_seconds: 'histogram',
  echostream_summaries_done_total: 'counter',
  echostream_summaries_failed_total: 'counter',
  echostream_bedrock_calls_total: 'counter',
  echostream_bedrock_failures_total: 'counter',
  echostream_bedrock_input_tokens_total: 'counter',
  echostream_bedrock_output_tokens_total: 'counter',
  echostream_bedrock_spend_usd_total: 'counter',
  echostream_alerts_detected_total: 'counter',
  echostream_alerts_delivered_total: 'counter',
  echostream_alerts_delivery_failed_total: 'counter',
  echostream_metrics_redis_ok: 'gauge',
  echostream_stream_length: 'gauge',
  echostream_dead_letters: 'gauge',
  echostream_stream_group_lag: 'gauge',
  echostream_stream_group_pending: 'gauge',
};
