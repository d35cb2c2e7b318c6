// shellcheck.test.mjs - every shell script in the repository passes
// shellcheck (Debian's shellcheck 0.9, installed by install-deps.sh).
//
// The suite finds the scripts itself, by walking the tree, instead of
// reading a list: a script added anywhere (a deploy helper, a package's
// maintainer script, a CI step file) is checked the day it lands, and one
// left out of a list cannot slip through. A script is a file named *.sh or
// *.bash, a file whose first line is a #! naming sh, bash, dash or ksh
// (directly or through env), or one whose first lines carry a
// "# shellcheck shell=" directive (a file that is only ever sourced). What
// is generated or installed (build/, var/, node_modules/, web/dist) and
// git's own folder are skipped.
//
// shellcheck runs at its default severity (style and up), following the
// files a script sources (-x). A finding fails with shellcheck's own
// message; where shellcheck is wrong a script carries a targeted
// "# shellcheck disable=SCxxxx # reason" on the line before.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync, openSync, readSync, readdirSync, rmSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';

import { ROOT, tmpDir } from '../../lib/harness.mjs';

// top-level folders that hold what the build, make run or npm produced
const SKIP_TOP = new Set(['.git', 'build', 'var', 'node_modules']);
const SKIP_ANY = new Set(['node_modules', '.git']);
const SKIP_PATHS = new Set([path.join('web', 'dist')]);

const SHEBANG = /^#!\s*(?:\/usr)?\/bin\/(?:env\s+(?:-S\s+)?)?(?:ba|da|k)?sh(?:\s|$)/;
const DIRECTIVE = /^#\s*shellcheck\s+shell=/m;

function head(file, bytes = 512) {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

function isScript(rel, abs) {
  if (/\.(?:sh|bash)$/.test(rel)) return true;
  const text = head(abs);
  const first = text.split('\n', 1)[0];
  return SHEBANG.test(first) || DIRECTIVE.test(text);
}

// every shell script under dir, relative to ROOT, sorted
function findScripts(dir = ROOT, out = []) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, ent.name);
    const rel = path.relative(ROOT, abs);
    if (ent.isDirectory()) {
      if (dir === ROOT && SKIP_TOP.has(ent.name)) continue;
      if (SKIP_ANY.has(ent.name) || SKIP_PATHS.has(rel)) continue;
      findScripts(abs, out);
    } else if (ent.isFile() && isScript(rel, abs)) {
      out.push(rel);
    }
  }
  return out.sort();
}

function shellcheck(files, cwd = ROOT) {
  return spawnSync('shellcheck', ['-x', '-f', 'gcc', '--', ...files],
    { cwd, encoding: 'utf8' });
}

const scripts = findScripts();

test('shellcheck 0.9 or later is installed', () => {
  const r = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
  assert.equal(r.error, undefined,
    'shellcheck is not on PATH: deploy/local/install-deps.sh installs it');
  const m = /^version: (\d+)\.(\d+)/m.exec(r.stdout);
  assert.ok(m, `shellcheck --version said: ${r.stdout}`);
  assert.ok(Number(m[1]) > 0 || Number(m[2]) >= 9,
    `shellcheck ${m[1]}.${m[2]} is older than 0.9`);
});

test('the walk finds scripts by name, by #! line and by directive', () => {
  // one of each kind the finder must recognise: a *.sh, a script with a
  // #! line and no suffix, a sourced file with only a directive, and a
  // file under a dotted folder
  for (const f of ['tests/run.sh', 'tests/bench/lib/private_redis.sh',
    '.ci/run', 'deploy/local/node-compat.sh']) {
    assert.ok(scripts.includes(f), `${f} found (found: ${scripts})`);
  }
  assert.ok(!scripts.some((f) => f.startsWith('node_modules')),
    'node_modules skipped');
  assert.ok(!scripts.some((f) => /\.py$|\.mjs$|\.lua$/.test(f)),
    `only shell scripts: ${scripts}`);
});

test('shellcheck flags a faulty script (the check can fail)', async () => {
  const dir = await tmpDir('es-shellcheck-');
  try {
    const bad = path.join(dir, 'bad.sh');
    writeFileSync(bad, '#!/bin/sh\nrm -rf $1/*\n');
    const r = shellcheck([bad], dir);
    assert.notEqual(r.status, 0, 'an unquoted "$1" must be reported');
    assert.match(r.stdout, /SC2086/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every shell script passes shellcheck', () => {
  assert.ok(scripts.length > 0);
  const r = shellcheck(scripts);
  assert.equal(r.error, undefined, `shellcheck did not run: ${r.error}`);
  assert.equal(r.status, 0,
    `shellcheck findings in ${scripts.length} scripts:\n` +
    `${r.stdout}${r.stderr}`);
});
