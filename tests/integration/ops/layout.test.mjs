// layout.test.mjs - the module's folders are its layers, and the build
// sees every file in them.
//
// The addon file (config) compiles the .c files of the folders named on
// its ECHOSTREAM_LAYERS line and nothing else, so a source dropped at the
// module's top or into a new folder would be skipped without a word; an
// include without its layer prefix would compile only by accident of the
// include path. Module files stay under MAX_LINES so each one can be read
// as one concern (docs/module.md#layout).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { ROOT } from '../../lib/harness.mjs';

const MOD = path.join(ROOT, 'ngx_echostream_module');
const MAX_LINES = 600;

function layers() {
  const config = readFileSync(path.join(ROOT, 'config'), 'utf8');
  const m = /^ECHOSTREAM_LAYERS="([^"]*)"/m.exec(config);
  assert.ok(m, 'config names the layers on an ECHOSTREAM_LAYERS="…" line');
  return m[1].split(/\s+/).filter(Boolean);
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(path.relative(MOD, p));
  }
  return out;
}

const files = walk(MOD).filter((f) => /\.[ch]$/.test(f));

test('every module source is in a layer folder the addon file lists', () => {
  const known = new Set(layers());
  const stray = files.filter((f) => {
    const parts = f.split(path.sep);
    return parts.length !== 2 || !known.has(parts[0]);
  });
  assert.deepEqual(stray, [], 'files the nginx build would not compile');
  for (const layer of known) {
    assert.ok(files.some((f) => f.startsWith(layer + path.sep)),
      `layer ${layer} has files`);
  }
});

test('module includes name the layer of the header they reach', () => {
  const byName = new Map(files.map((f) => [path.basename(f), f]));
  const bad = [];
  for (const f of files) {
    const src = readFileSync(path.join(MOD, f), 'utf8');
    for (const m of src.matchAll(/^#include "([^"]+)"/gm)) {
      const inc = m[1];
      const base = path.basename(inc);
      if (!base.startsWith('ngx_http_echostream_')) continue;
      if (byName.get(base) !== inc) bad.push(`${f}: ${inc}`);
    }
  }
  assert.deepEqual(bad, []);
});

test(`module files stay under ${MAX_LINES} lines`, () => {
  const long = files
    .map((f) => [f, readFileSync(path.join(MOD, f), 'utf8').split('\n')
      .length - 1])
    .filter(([, n]) => n > MAX_LINES)
    .map(([f, n]) => `${f}: ${n}`);
  assert.deepEqual(long, []);
});
