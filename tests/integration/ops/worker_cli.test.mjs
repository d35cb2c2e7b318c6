// worker_cli.test.mjs - the command line and signals every worker shares,
// run against the real worker binaries.
//
// --version must print exactly what build/gen/es_build_info.h says;
// --check-config must load the configuration as a start does (file named by
// --config or ECHOSTREAM_CONFIG, then the environment), connect to nothing
// and answer "configuration ok" / exit 0 or the errors naming the key /
// exit 2. A running worker (the mirror without a queue: idle, heartbeats
// only, against a private redis-server) is then sent SIGHUP: a new
// log.level applies while it keeps running, log.file is reopened after a
// rename (logrotate's way), a bad file is refused with an error line and the
// old settings kept. Its text lines must be logfmt, with a journald
// priority in front only when stderr is the journal.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readdirSync,
         renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, bin, freePort, startProc, startRedis, tmpDir, waitFor }
  from '../../lib/harness.mjs';

const WORKERS = readdirSync(path.join(ROOT, 'workers'))
  .filter((w) => w !== 'common').sort();

// a logfmt line as es_log writes it: ts, level, component, msg, fields
const LOGFMT = /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) component=[a-z]+ msg=("([^"\\]|\\.)*"|[^\s"=]+)( [A-Za-z0-9_.-]+=("([^"\\]|\\.)*"|[^\s"=]+))*$/;

let redis;
let dir;

before(async () => {
  redis = await startRedis();
  dir = await tmpDir('es-worker-cli-');
});

after(async () => {
  await redis?.close();
});

function buildInfo() {
  const h = readFileSync(path.join(ROOT, 'build', 'gen', 'es_build_info.h'),
                         'utf8');
  const get = (name) => h.match(new RegExp(`#define ${name} "([^"]*)"`))[1];
  return { version: get('ES_VERSION'), rev: get('ES_GIT_REV'),
           date: get('ES_BUILD_DATE') };
}

// runs a worker to its end; the environment holds only what is given
// (plus PATH), so nothing of the machine's reaches the configuration
function run(worker, args, env = {}) {
  const r = spawnSync(bin(worker), args, {
    encoding: 'utf8', timeout: 20000,
    env: { PATH: process.env.PATH, ECHOSTREAM_CONFIG: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeConf(name, text) {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

// a Redis address nothing listens on: --check-config must not connect
let deadRedis;
before(async () => { deadRedis = `redis://127.0.0.1:${await freePort()}/0`; });

test('--version prints the build header\'s version line on every worker', () => {
  const info = buildInfo();
  assert.ok(WORKERS.length >= 5, `workers found: ${WORKERS}`);
  for (const w of WORKERS) {
    const r = run(w, ['--version']);
    assert.equal(r.code, 0, `${w}: ${r.stderr}`);
    assert.equal(r.stdout, `echostream-${w} ${info.version} (revision ` +
                 `${info.rev}, built ${info.date})\n`);
    assert.equal(r.stderr, '');
    // the version answers even when the configuration would not load
    const broken = run(w, ['--version', '--config', '/nonexistent/x.conf']);
    assert.equal(broken.code, 0, w);
    assert.match(broken.stdout, new RegExp(`^echostream-${w} `));
  }
});

test('--help names --version, --check-config and the default file', () => {
  for (const w of WORKERS) {
    const r = run(w, ['--help']);
    assert.equal(r.code, 0, w);
    for (const s of ['--version', '--check-config', 'ECHOSTREAM_CONFIG',
                     '/etc/echostream/echostream.conf', 'log.file', 'HUP']) {
      assert.ok(r.stdout.includes(s), `${w} --help lacks ${s}`);
    }
  }
});

test('--check-config: ok on every worker without connecting to Redis', () => {
  for (const w of WORKERS) {
    const r = run(w, ['--check-config'], { ECHOSTREAM_REDIS: deadRedis });
    assert.equal(r.code, 0, `${w}: ${r.stderr}`);
    assert.equal(r.stdout, 'configuration ok\n', w);
    // nothing was started: no log line at all
    assert.doesNotMatch(r.stderr, /level=/, w);
  }
});

test('--check-config: a bad value names the key and exits 2', () => {
  const cases = [
    ['mirror', { ECHOSTREAM_MIRROR_TIMEOUT: 'abc' }, /mirror\.timeout/],
    ['enrich', { ECHOSTREAM_ENRICH_BATCH: '0' }, /enrich\.batch/],
    ['ingest', { ECHOSTREAM_INGEST_BATCH: '-5' }, /ingest\.batch/],
    ['alert', { ECHOSTREAM_ALERT_INTERVAL: 'soon' }, /alert\.interval/],
    ['summarize', { ECHOSTREAM_SUMMARIZE_INTERVAL: '0' },
     /summarize\.interval/],
    ['mirror', { ECHOSTREAM_REDIS: 'http://nope' }, /redis|address/i],
    ['mirror', { ECHOSTREAM_LOG_LEVEL: 'loud' }, /log\.level/],
    ['mirror', { ECHOSTREAM_LOG_FILE: 'relative.log' }, /log\.file/],
    ['mirror', { ECHOSTREAM_LOG_FILE: '/nonexistent/dir/m.log' }, /log\.file/],
  ];
  for (const [w, env, re] of cases) {
    const r = run(w, ['--check-config'], { ECHOSTREAM_REDIS: deadRedis, ...env });
    assert.equal(r.code, 2, `${w} ${JSON.stringify(env)}: ${r.stdout}`);
    assert.match(r.stderr, re, `${w} ${JSON.stringify(env)}`);
    assert.doesNotMatch(r.stdout, /configuration ok/);
  }
  // the same from a file
  const conf = writeConf('bad-value.conf', 'mirror.batch_wait_ms = forever\n');
  const r = run('mirror', ['--check-config', '--config', conf]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /mirror\.batch_wait_ms/);
});

test('--check-config: a missing or malformed --config file exits 2', () => {
  const missing = run('mirror', ['--check-config', '--config',
                                 path.join(dir, 'no-such.conf')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot open config file .*no-such\.conf/);
  const unknown = writeConf('unknown.conf', 'mirror.groop = x\n');
  const u = run('mirror', ['--check-config', '--config', unknown]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown\.conf:1: unknown configuration key "mirror\.groop"/);
});

test('ECHOSTREAM_CONFIG names the default file; a missing one is no error', () => {
  const good = writeConf('default-good.conf', 'mirror.group = from-file\n');
  const bad = writeConf('default-bad.conf', 'mirror.claim_idle_ms = 5\n');
  // read: its value shows in --help with its source
  const h = run('mirror', ['--help'], { ECHOSTREAM_CONFIG: good });
  assert.match(h.stdout, /now "from-file" \(file\)/);
  // and checked like a start
  const b = run('mirror', ['--check-config'],
                { ECHOSTREAM_CONFIG: bad, ECHOSTREAM_REDIS: deadRedis });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /mirror\.claim_idle_ms/);
  // missing: the environment alone configures the worker
  const m = run('mirror', ['--check-config'],
                { ECHOSTREAM_CONFIG: path.join(dir, 'absent.conf'),
                  ECHOSTREAM_REDIS: deadRedis });
  assert.equal(m.code, 0, m.stderr);
  assert.equal(m.stdout, 'configuration ok\n');
  // --config wins over ECHOSTREAM_CONFIG
  const c = run('mirror', ['--check-config', '--config', good],
                { ECHOSTREAM_CONFIG: bad, ECHOSTREAM_REDIS: deadRedis });
  assert.equal(c.code, 0, c.stderr);
  // the environment wins over the file
  const e = run('mirror', ['--check-config'],
                { ECHOSTREAM_CONFIG: bad, ECHOSTREAM_MIRROR_CLAIM_IDLE_MS: '1000',
                  ECHOSTREAM_REDIS: deadRedis });
  assert.equal(e.code, 0, e.stderr);
});

// an idle mirror (no queue): it heartbeats to Redis and logs a debug line
// per heartbeat, so a level change shows within a fraction of a second
function startIdleMirror(conf, env = {}) {
  return startProc(bin('mirror'), [], {
    name: 'mirror',
    env: { ECHOSTREAM_CONFIG: conf, ECHOSTREAM_REDIS: redis.url,
           ECHOSTREAM_MIRROR_QUEUE_URL: '', ECHOSTREAM_WORKER_HEARTBEAT: '0.2',
           ...env },
  });
}

async function stop(p) {
  p.kill('SIGTERM');
  const r = await p.exited;
  assert.deepEqual(r, { code: 0, signal: null }, p.output());
}

test('SIGHUP applies a new log.level while the worker keeps running', async () => {
  const conf = writeConf('hup-level.conf', 'log.level = info\n');
  const p = startIdleMirror(conf);
  await p.waitForOutput(/msg="mirror idle"/);
  await new Promise((r) => setTimeout(r, 600)); // three heartbeats
  assert.doesNotMatch(p.output(), /level=debug/, 'debug before the HUP');
  writeFileSync(conf, 'log.level = debug\nmirror.group = other\n');
  p.kill('SIGHUP');
  await p.waitForOutput(/msg="configuration reloaded".*log_level=debug/);
  await p.waitForOutput(/level=debug component=mirror msg=heartbeat /);
  // a key only a restart applies is named, its value is not
  assert.match(p.output(), /level=warn .*restart to apply it" key=mirror\.group/);
  assert.equal(p.child.exitCode, null, 'still running');
  // every line is logfmt
  for (const line of p.stderr().trim().split('\n')) {
    assert.match(line, LOGFMT);
  }
  await stop(p);
});

test('SIGHUP with a bad configuration keeps the old one and logs an error', async () => {
  const conf = writeConf('hup-bad.conf', 'log.level = debug\n');
  const p = startIdleMirror(conf);
  await p.waitForOutput(/msg=heartbeat/);
  for (const text of ['log.level = loud\n', 'log.level debug\n',
                      'no.such.key = 1\n']) {
    writeFileSync(conf, text);
    const before = p.output().length;
    p.kill('SIGHUP');
    await waitFor(() => /level=error .*msg="configuration reload failed; keeping the running one"/
      .test(p.output().slice(before)), { what: `error for ${JSON.stringify(text)}` });
    // still at debug: heartbeats keep being logged
    const mark = p.output().length;
    await waitFor(() => /msg=heartbeat/.test(p.output().slice(mark)),
                  { what: 'heartbeat after the failed reload' });
  }
  assert.equal(p.child.exitCode, null, 'still running');
  await stop(p);
});

test('log.file: lines go to the file; SIGHUP reopens it after a rename', async () => {
  const logDir = await tmpDir('es-worker-log-');
  const log = path.join(logDir, 'mirror.log');
  const conf = writeConf('hup-file.conf',
                         `log.file = ${log}\nlog.level = debug\n`);
  const p = startIdleMirror(conf);
  await waitFor(() => existsSync(log) &&
                /msg="mirror idle"/.test(readFileSync(log, 'utf8')),
                { what: 'mirror idle in the log file' });
  assert.doesNotMatch(p.stderr(), /mirror idle/, 'not on stderr as well');
  renameSync(log, `${log}.1`);
  p.kill('SIGHUP');
  await waitFor(() => existsSync(log) &&
                /msg="configuration reloaded"/.test(readFileSync(log, 'utf8')),
                { what: 'a new log file written after the HUP' });
  const old = readFileSync(`${log}.1`, 'utf8');
  assert.match(old, /msg="mirror idle"/);
  assert.doesNotMatch(old, /configuration reloaded/);
  // the work goes on into the new file
  await waitFor(() => /msg="configuration reloaded"(.|\n)*msg=heartbeat/
    .test(readFileSync(log, 'utf8')), { what: 'heartbeats in the new file' });
  await stop(p);
  for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
    assert.match(line, LOGFMT);
  }
});

// runs the idle mirror with stderr on a file (so its device and inode are
// known), for a moment, and returns its lines
async function mirrorLinesWithStderrFile(name, env) {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  const st = fstatSync(fd);
  const child = spawn(bin('mirror'), [], {
    stdio: ['ignore', 'ignore', fd],
    env: { PATH: process.env.PATH, ECHOSTREAM_CONFIG: '',
           ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_WORKER_HEARTBEAT: '0.2',
           ...env(st) },
  });
  closeSync(fd);
  try {
    await waitFor(() => /mirror idle/.test(readFileSync(file, 'utf8')),
                  { what: 'mirror idle' });
  } finally {
    child.kill('SIGTERM');
  }
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0);
  return readFileSync(file, 'utf8').trim().split('\n');
}

test('under systemd (JOURNAL_STREAM is stderr) text lines carry <N> priorities', async () => {
  const journal = await mirrorLinesWithStderrFile('journal.err', (st) => ({
    JOURNAL_STREAM: `${st.dev}:${st.ino}`, ECHOSTREAM_LOG_LEVEL: 'debug' }));
  assert.ok(journal.length >= 2);
  for (const line of journal) {
    const m = line.match(/^<([0-7])>(.*)$/);
    assert.ok(m, `no priority: ${line}`);
    const level = m[2].match(/ level=(\w+) /)[1];
    assert.equal(m[1], { debug: '7', info: '6', warn: '4', error: '3' }[level]);
    assert.match(m[2], LOGFMT);
  }
  // another file's inode: stderr is not the journal, no prefix
  const other = await mirrorLinesWithStderrFile('other.err', (st) => ({
    JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }));
  for (const line of other) assert.match(line, LOGFMT);
  // forced with log.format = journal
  const forced = await mirrorLinesWithStderrFile('forced.err', () => ({
    ECHOSTREAM_LOG_FORMAT: 'journal' }));
  for (const line of forced) assert.match(line, /^<[3467]>ts=/);
  // JSON stays one object per line, never prefixed
  const json = await mirrorLinesWithStderrFile('json.err', (st) => ({
    JOURNAL_STREAM: `${st.dev}:${st.ino}`, ECHOSTREAM_LOG_FORMAT: 'json' }));
  for (const line of json) {
    const o = JSON.parse(line);
    assert.deepEqual(Object.keys(o).slice(0, 4),
                     ['ts', 'level', 'component', 'msg']);
  }
});
