// redis_libraries.test.mjs - the Redis function libraries of lib/redis/ as
// the programs load them.
//
// Each library, as the build writes it (build/gen/redis/<file>.lua, the
// text embedded in the programs), loads into a real redis-server, carries
// the schema constants of lib/es_schema.h and answers its version. The
// programs that load them (the nginx module for tenancy, tenant and read,
// the ingest, enrich and alert workers for theirs) add a missing library,
// replace an older one (also one from before versions, with no version
// function) and keep a newer one, saying so in their log: during a
// rolling upgrade old and new code never overwrite each other back and
// forth.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { ROOT, bin, startProc, startRedis, waitFor } from '../../lib/harness.mjs';
import { startNginx } from '../../lib/nginx.mjs';

const GEN = path.join(ROOT, 'build', 'gen', 'redis');
const SRC = path.join(ROOT, 'lib', 'redis');

let redis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.close();
});

// {file, name, version, built} of every lib/redis/*.lua
function libraries() {
  return readdirSync(SRC).filter((f) => f.endsWith('.lua')).sort()
    .map((f) => {
      const src = readFileSync(path.join(SRC, f), 'utf8');
      const m = /^#!lua name=([a-z_]+)\n-- version: (\d+)\n/.exec(src);
      assert.ok(m, `${f} starts with its name and version`);
      return { file: f, name: m[1], version: Number(m[2]),
               built: readFileSync(path.join(GEN, f), 'utf8') };
    });
}

// es_schema.h's constants: {NAME: value}
function schemaConstants() {
  const h = readFileSync(path.join(ROOT, 'lib', 'es_schema.h'), 'utf8');
  const out = {};
  for (const m of h.matchAll(/X\(([A-Z_]+), ([0-9 *]+),/g)) {
    out[m[1]] = m[2].split('*').map(Number).reduce((a, b) => a * b, 1);
  }
  return out;
}

// A stand-in library of that name answering version v (no other function).
const standIn = (name, v) => `#!lua name=${name}\n` +
  `redis.register_function{function_name = '${name}_version', ` +
  `callback = function() return ${v} end, flags = {'no-writes'}}\n`;

// The library from before versions: a function of the real one, no version.
const unversioned = (name) => `#!lua name=${name}\n` +
  `redis.register_function('${name}_legacy', function() return 1 end)\n`;

async function version(name) {
  try {
    return await redis.cmd('FCALL_RO', `${name}_version`, '0');
  } catch {
    return 0;
  }
}

async function functionNames(name) {
  const list = await redis.cmd('FUNCTION', 'LIST', 'LIBRARYNAME', name);
  const lib = list.find((l) => l[1] === name);
  if (!lib) return [];
  return lib[5].map((f) => f[1]).sort();
}

test('every library loads as built, with the schema constants and its version',
  async () => {
    const libs = libraries();
    assert.deepEqual(libs.map((l) => l.file),
      ['alert.lua', 'enrich.lua', 'ingest.lua', 'read.lua', 'summarize.lua',
       'tenancy.lua', 'tenant.lua']);
    const consts = schemaConstants();
    assert.ok(Object.keys(consts).length >= 5, 'parsed es_schema.h');
    await redis.cmd('FUNCTION', 'FLUSH');
    for (const l of libs) {
      assert.equal(await redis.cmd('FUNCTION', 'LOAD', l.built), l.name);
      assert.equal(await version(l.name), l.version, l.file);
      for (const [k, v] of Object.entries(consts)) {
        assert.match(l.built, new RegExp(`^  ${k} = ${v}, -- `, 'm'),
          `${l.file}: ${k}`);
      }
      // the source itself repeats no schema number by hand
      const src = readFileSync(path.join(SRC, l.file), 'utf8');
      assert.doesNotMatch(src, /\b(730|90|400) \* D\b/, l.file);
    }
  });

// Starts the module against the shared Redis, waits until it asked for
// every library's version, and stops it: {log}.
async function runModule() {
  const n = await startNginx({ redisUrl: redis.url });
  try {
    await waitFor(async () => (await version('echostream_tenant')) !== 0 &&
      (await version('echostream_tenancy')) !== 0 &&
      (await version('echostream_read')) !== 0,
    { timeout: 10000, what: 'the module\'s libraries' });
    // each worker process connects: let both finish their setup
    await new Promise((r) => setTimeout(r, 500));
    return { log: n.errorLog() };
  } finally {
    await n.stop();
  }
}

test('the module adds missing libraries and replaces older ones', async () => {
  const libs = Object.fromEntries(libraries().map((l) => [l.name, l]));
  await redis.cmd('FUNCTION', 'FLUSH');
  // tenancy missing; tenant from before versions
  await redis.cmd('FUNCTION', 'LOAD', unversioned('echostream_tenant'));
  const { log } = await runModule();
  assert.equal(await version('echostream_tenancy'),
    libs.echostream_tenancy.version);
  assert.equal(await version('echostream_tenant'),
    libs.echostream_tenant.version);
  // the readers of stored comments, which the module loads too
  assert.equal(await version('echostream_read'), libs.echostream_read.version);
  assert.ok((await functionNames('echostream_read')).includes('es_records'));
  assert.ok((await functionNames('echostream_tenant')).includes('es_topic_put'));
  assert.ok(!(await functionNames('echostream_tenant'))
    .includes('echostream_tenant_legacy'), 'the old code is gone');
  assert.match(log, /loading function library "echostream_tenant" version \d+ \(Redis held version 0\)/);
});

test('the module keeps a newer library and says so', async () => {
  await redis.cmd('FUNCTION', 'FLUSH');
  await redis.cmd('FUNCTION', 'LOAD', standIn('echostream_tenant', 999999));
  const { log } = await runModule();
  assert.equal(await version('echostream_tenant'), 999999);
  assert.deepEqual(await functionNames('echostream_tenant'),
    ['echostream_tenant_version']);
  assert.match(log, /\[warn\].*Redis holds function library "echostream_tenant" version 999999, newer than this module's version \d+: kept, not downgraded/);
  assert.doesNotMatch(log, /loading function library "echostream_tenant"/);
});

test('the module leaves a library of its own version alone', async () => {
  await redis.cmd('FUNCTION', 'FLUSH');
  for (const l of libraries()) {
    await redis.cmd('FUNCTION', 'LOAD', l.built);
  }
  const { log } = await runModule();
  assert.doesNotMatch(log, /loading function library/);
  assert.doesNotMatch(log, /newer than this module/);
  assert.doesNotMatch(log, /connection setup refused/);
});

// Runs ingest briefly (synthetic source) and returns its output once it
// has loaded or judged its library.
async function runIngest() {
  const p = startProc(bin('ingest'), ['--synthetic', '5'], {
    env: { ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_WORKER_HEARTBEAT: '0.2' },
    name: 'ingest' });
  try {
    await waitFor(async () => (await redis.cmd('HLEN', 'es:workers')) > 0,
      { timeout: 10000, what: 'ingest heartbeat' });
  } finally {
    p.kill('SIGTERM');
    await p.exited;
  }
  return p.output();
}

test('a worker replaces an older library, keeps a newer one', async () => {
  const ingest = libraries().find((l) => l.file === 'ingest.lua');
  await redis.cmd('FUNCTION', 'FLUSH');
  await redis.cmd('DEL', 'es:workers');
  await redis.cmd('FUNCTION', 'LOAD', unversioned(ingest.name));
  let out = await runIngest();
  assert.equal(await version(ingest.name), ingest.version);
  assert.ok((await functionNames(ingest.name)).includes('es_ingest_add'));
  assert.match(out, /loaded redis function library/);

  await redis.cmd('FUNCTION', 'LOAD', 'REPLACE',
    standIn(ingest.name, 999999));
  await redis.cmd('DEL', 'es:workers');
  out = await runIngest();
  assert.equal(await version(ingest.name), 999999);
  assert.match(out, /redis holds a newer function library/);
  assert.match(out, /redis_version=999999/);
});

test('the alert worker adds its library, and keeps a newer one', async () => {
  const alert = libraries().find((l) => l.file === 'alert.lua');
  const run = async () => {
    await redis.cmd('DEL', 'es:workers');
    const p = startProc(bin('alert'), [], {
      env: { ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_WORKER_HEARTBEAT: '0.2',
             ECHOSTREAM_MAIL_TRANSPORT: 'none' }, name: 'alert' });
    try {
      await waitFor(async () => (await redis.cmd('HLEN', 'es:workers')) > 0,
        { timeout: 10000, what: 'alert heartbeat' });
    } finally {
      p.kill('SIGTERM');
      await p.exited;
    }
    return p.output();
  };
  await redis.cmd('FUNCTION', 'FLUSH');
  let out = await run();
  assert.equal(await version(alert.name), alert.version);
  assert.ok((await functionNames(alert.name)).includes('es_alert_fire'));
  assert.match(out, /loaded redis function library.*library=echostream_alert/);

  await redis.cmd('FUNCTION', 'LOAD', 'REPLACE', standIn(alert.name, 999999));
  out = await run();
  assert.equal(await version(alert.name), 999999);
  assert.match(out, /redis holds a newer function library/);
});
