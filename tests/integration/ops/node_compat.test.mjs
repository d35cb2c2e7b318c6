// node_compat.test.mjs - every Node program the suites and `make run` start
// loads under the oldest Node.js the project supports.
//
// The development machines may run a newer Node than a newcomer's Debian 12
// (nodejs 18.20). Node 20.19 and 22.12 quietly allow require() of an ES
// module; Node 18 throws ERR_REQUIRE_ESM. A CommonJS package that requires
// an ESM-only dependency therefore works here and dies at start on Debian.
// This suite makes that fault loud on any machine:
//
//   * every package in package-lock.json that declares engines.node must
//     admit the oldest supported version (package.json engines.node);
//   * every package our programs import is declared in package.json, and
//     each declared package imports and (where it has a CommonJS entry)
//     requires under Node 18's module rules;
//   * cognito-local, the one npm program `make run` starts, starts and
//     signs a user in under those rules.
//
// "Node 18's module rules" are --no-experimental-require-module and
// --no-experimental-detect-module where the running Node knows them; an
// older Node already has them, so it runs plainly. tests/run.sh also sets the flag for every suite
// through NODE_OPTIONS (deploy/local/node-compat.sh).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';

import { ROOT } from '../../lib/harness.mjs';
import { startCognito } from '../../lib/api.mjs';

const require = createRequire(path.join(ROOT, 'package.json'));
const semver = require('semver');

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'),
                                     'utf8'));
const OLDEST = semver.minVersion(pkg.engines.node).version;

// --no-experimental-require-module and --no-experimental-detect-module
// (Node 18 reads a .js file outside a "type": "module" package as
// CommonJS, whatever its syntax), each where this Node has it.
function oldRulesFlags() {
  return ['--no-experimental-require-module', '--no-experimental-detect-module']
    .filter((flag) => spawnSync(process.execPath, [flag, '-e', '0'],
                                { encoding: 'utf8' }).status === 0);
}
const FLAGS = oldRulesFlags();

// Runs a snippet in a fresh node under the old module rules, from ROOT
// (so bare specifiers resolve in node_modules), without any NODE_OPTIONS
// of ours: the flag is given explicitly. Returns {status, stderr}.
function runOld(args, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [...FLAGS, ...args],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stderr: `${r.stderr}${r.error || ''}` };
}

// Our own Node programs and test code: every .mjs under tests/ and deploy/.
function ownModules() {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      if (e === 'node_modules') continue;
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(mjs|cjs|js)$/.test(e)) out.push(p);
    }
  };
  walk(path.join(ROOT, 'tests'));
  walk(path.join(ROOT, 'deploy'));
  return out;
}

// The package names a source file imports or requires (bare specifiers).
function importedPackages(file) {
  const src = readFileSync(file, 'utf8');
  const names = new Set();
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"\s]+)['"]/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const spec = m[1];
    if (spec.startsWith('.') || spec.startsWith('/')) continue;
    if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return names;
}

test('the running Node is one the project supports', () => {
  assert.ok(semver.satisfies(process.version, pkg.engines.node),
    `node ${process.version} is outside package.json engines ` +
    `${pkg.engines.node}`);
  assert.ok(semver.valid(OLDEST), `oldest supported Node: ${OLDEST}`);
});

test('every locked npm package admits the oldest supported Node', () => {
  const bad = [];
  let checked = 0;
  for (const [where, p] of Object.entries(lock.packages || {})) {
    const range = p.engines?.node;
    if (!where || !range) continue;
    checked++;
    if (!semver.satisfies(OLDEST, range)) {
      bad.push(`${where}@${p.version} needs node ${range}`);
    }
  }
  assert.ok(checked > 10, `read the engines of ${checked} packages`);
  assert.deepEqual(bad, [], `packages that cannot run on node ${OLDEST}`);
});

test('every package our programs import is declared in package.json', () => {
  const declared = new Set(Object.keys(pkg.devDependencies || {}));
  const undeclared = [];
  let files = 0;
  for (const f of ownModules()) {
    files++;
    for (const name of importedPackages(f)) {
      if (!declared.has(name)) {
        undeclared.push(`${path.relative(ROOT, f)} imports ${name}`);
      }
    }
  }
  assert.ok(files > 20, `scanned ${files} files`);
  assert.deepEqual(undeclared, [],
    'a package used but not declared is pinned by accident, not by us');
});

test('every declared package loads under the oldest Node\'s module rules',
  () => {
    const failures = [];
    for (const name of Object.keys(pkg.devDependencies)) {
      const imp = runOld(['--input-type=module', '-e',
        `await import(${JSON.stringify(name)});`]);
      if (imp.status !== 0) {
        failures.push(`import ${name}: ${imp.stderr.split('\n')
          .find((l) => /Error/.test(l)) || imp.stderr.slice(-400)}`);
      }
      // a package with a CommonJS entry is also required by others
      let hasCjs = true;
      try { require.resolve(name); } catch { hasCjs = false; }
      if (!hasCjs) continue;
      const req = runOld(['-e', `require(${JSON.stringify(name)});`]);
      if (req.status !== 0) {
        failures.push(`require ${name}: ${req.stderr.split('\n')
          .find((l) => /Error/.test(l)) || req.stderr.slice(-400)}`);
      }
    }
    assert.deepEqual(failures, [],
      `modules that fail to load on node ${OLDEST} (flags: ${
        FLAGS.join(' ') || 'none'})`);
  });

test('cognito-local starts and signs a user in under those rules',
  async () => {
    const cg = await startCognito({ nodeArgs: FLAGS });
    try {
      const u = await cg.user('compat@example.com');
      assert.match(u.idToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const jwks = await (await fetch(cg.jwksUri)).json();
      assert.ok(jwks.keys.length >= 1, 'JWKS served');
    } finally {
      await cg.stop();
    }
  });

test('make run\'s own Node scripts load under those rules', () => {
  // without arguments or a var/ each stops with its own message, which it
  // can print only after every import has loaded
  const expect = {
    'deploy/local/cognito-setup.mjs': /usage: cognito-setup\.mjs/,
    'deploy/local/token.mjs': /token: no local setup/,
  };
  for (const [script, re] of Object.entries(expect)) {
    const r = runOld([script], { ECHOSTREAM_VAR: '/nonexistent/es-var' });
    assert.notEqual(r.status, 0, script);
    assert.match(r.stderr, re, `${script}: ${r.stderr.slice(-400)}`);
  }
});

test('the dashboard\'s modules load as ES modules under Node 18\'s rules', () => {
  // the tests import web/src/*.js; Node 18 reads a .js file as CommonJS
  // unless its package says "type": "module" (web/package.json)
  const r = runOld(['--input-type=module', '-e',
    "const m = await import('./web/src/format.js');" +
    "if (typeof m.fmtPct !== 'function') process.exit(3);"]);
  assert.equal(r.status, 0, r.stderr);
});
