// cost_model.test.mjs - the AWS cost model (deploy/aws/cost.py) runs on
// its committed inputs (prices.json, volumes.json and the figures
// measure.mjs measured, measured.json) and prints the monthly cost at 1,
// 10 and 100 tenants with every line item; the totals are the sums of
// their lines; the default deployment at 10 tenants is under its budget or
// the tool prints the exact change and a total under it; every price has a
// date and a source, and a price file without them is refused. The
// measured figures themselves are checked for being measured (date, how
// to regenerate, token counts from real briefs), not the stack rerun: the
// measurement takes a minute or two (docs/cost.md says how to rerun it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, tmpDir } from '../../lib/harness.mjs';
import { parseTemplate } from '../../lib/cfn.mjs';

const DIR = path.join(ROOT, 'deploy', 'aws');
const COST = path.join(DIR, 'cost.py');
const LINES = ['EC2 instance', 'EBS gp3 volume', 'public IPv4 (Elastic IP)', 'SQS requests',
               'S3 storage (archive)', 'S3 PUTs', 'sentiment', 'Bedrock briefs', 'SES e-mail',
               'Cognito', 'data transfer out'];

const run = (...args) => spawnSync('python3', [COST, ...args], { encoding: 'utf8' });

test('the table: 1, 10 and 100 tenants, every line item, totals that add up', () => {
  const r = run();
  assert.equal(r.status, 0, r.stderr);
  process.stdout.write(r.stdout);
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('| '));
  assert.match(rows[0], /\| line item \| 1 tenant \| 10 tenants \| 100 tenants \|/);
  const cells = (name) => {
    const row = rows.find((l) => l.startsWith(`| ${name} |`));
    assert.ok(row, `line ${name} printed`);
    return row.split('|').slice(2, -1).map((c) => Number(/[\d.]+/.exec(c.replace(/\*/g, ''))[0]));
  };
  const totals = cells('**total**');
  assert.equal(totals.length, 3);
  const sums = [0, 0, 0];
  for (const l of LINES) cells(l).forEach((v, i) => { sums[i] += v; });
  // each cell is rounded to a cent: eleven lines differ by at most 6 cents
  totals.forEach((t, i) => assert.ok(Math.abs(t - sums[i]) < 0.06, `${t} vs ${sums[i]}`));
  assert.ok(totals[0] < totals[1] && totals[1] < totals[2]);
});

test('the JSON agrees: exact sums, sized instances, the default under budget or the change', () => {
  const r = run('--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.tenants.map((t) => t.tenants), [1, 10, 100]);
  for (const t of j.tenants) {
    assert.equal(Object.keys(t.lines).length, LINES.length);
    const s = Object.values(t.lines).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s - t.total) < 1e-9);
    assert.ok(t.facts.host_mb <= { 't4g.micro': 1024, 't4g.small': 2048, 't4g.medium': 4096,
                                   't4g.large': 8192, 't4g.xlarge': 16384 }[t.facts.instance]);
    assert.equal(t.lines.sentiment, 0, 'VADER costs nothing');
  }
  const d = j.default;
  assert.equal(d.tenants, 10);
  if (d.total < d.budget) {
    assert.equal(d.under_budget, true);
  } else {
    const last = d.change.at(-1);
    assert.ok(d.change.length >= 2, 'the tool says what to change');
    const m = /total after these changes: ([\d.]+) USD \(under\)/.exec(last);
    assert.ok(m, last);
    assert.ok(Number(m[1]) <= d.budget);
    // and the text output prints the same changes
    const text = run().stdout;
    for (const c of d.change) assert.ok(text.includes(`change: ${c}`), c);
  }
  // Comprehend costs more than VADER, Sonnet more than Haiku
  assert.ok(j.alternatives.comprehend[1] > j.tenants[1].total);
  assert.ok(j.alternatives.sonnet_uncapped[1] > j.tenants[1].total);
});

test('the measured inputs are measured: dated, reproducible, from real briefs', () => {
  const m = JSON.parse(readFileSync(path.join(DIR, 'measured.json'), 'utf8'));
  assert.match(m.measured, /^\d{4}-\d{2}-\d{2}$/);
  assert.match(m.how, /measure\.mjs/);
  assert.ok(m.redis.bytes_per_comment_stored > 100 && m.redis.bytes_per_comment_stored < 2000);
  assert.ok(m.volumes.comments_stored > 1000);
  assert.ok(m.summary.briefs.length >= 2);
  for (const b of m.summary.briefs) {
    // the double's rule: a token per four characters
    assert.ok(Math.abs(b.input_tokens - b.prompt_chars / 4) <= 2, JSON.stringify(b));
  }
});

test('every price has a date and a source; a file without them is refused', async () => {
  const doc = JSON.parse(readFileSync(path.join(DIR, 'prices.json'), 'utf8'));
  for (const [k, p] of Object.entries(doc.prices)) {
    assert.match(p.date, /^\d{4}-\d{2}-\d{2}$/, k);
    assert.match(p.source, /^https:\/\//, k);
  }
  // the workers' compiled-in defaults are the same prices
  const keys = readFileSync(path.join(ROOT, 'lib', 'es_config_keys.c'), 'utf8');
  const def = (k) => Number(new RegExp(`"${k.replace(/\./g, '\\.')}", "([\\d.]+)"`).exec(keys)[1]);
  assert.equal(def('bedrock.price_input_per_mtok'), doc.prices.bedrock_haiku_input_mtok.usd);
  assert.equal(def('bedrock.price_output_per_mtok'), doc.prices.bedrock_haiku_output_mtok.usd);
  assert.equal(def('comprehend.price_per_unit'), doc.prices.comprehend_unit.usd);
  // and so are the stack's, which the instance writes into those keys
  const params = parseTemplate(path.join(DIR, 'template.yaml')).Parameters;
  assert.equal(Number(params.BedrockPriceInputPerMtok.Default),
               doc.prices.bedrock_haiku_input_mtok.usd);
  assert.equal(Number(params.BedrockPriceOutputPerMtok.Default),
               doc.prices.bedrock_haiku_output_mtok.usd);

  const dir = await tmpDir('es-cost-');
  for (const [what, change, msg] of [
    ['date', (p) => { delete p.date; }, /has no date/],
    ['source', (p) => { p.source = ''; }, /has no source/],
  ]) {
    const bad = structuredClone(doc);
    change(bad.prices.ses_thousand_emails);
    const f = path.join(dir, `no-${what}.json`);
    writeFileSync(f, JSON.stringify(bad));
    const r = run('--prices', f);
    assert.equal(r.status, 2, `refused without ${what}`);
    assert.match(r.stderr, msg);
    assert.match(r.stderr, /ses_thousand_emails/);
    assert.equal(r.stdout, '');
  }
});
