// docs.test.mjs - the documentation tells the truth about the code.
//
// The README's configuration reference must list every key of the worker
// configuration table (lib/es_config_keys.c) with its environment variable
// and default, and every directive the nginx module defines; each worker's
// --help must print every key it reads. A key added without its
// documentation fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { ROOT, bin } from '../lib/harness.mjs';

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function configKeys() {
  const src = readFileSync(path.join(ROOT, 'lib/es_config_keys.c'), 'utf8');
  const keys = [];
  const re = /^\s*\{"([a-z0-9_.]+)",\s*"([^"]*)"/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    keys.push({ key: m[1], def: m[2] });
  }
  return keys;
}

const envName = (k) => `ECHOSTREAM_${k.toUpperCase().replace(/\./g, '_')}`;

test('README lists every configuration key with its variable and default',
  () => {
    const keys = configKeys();
    assert.ok(keys.length > 20, 'parsed the key table');
    for (const { key, def } of keys) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
      assert.ok(row, `README has no row for ${key}`);
      assert.ok(row.includes(`\`${envName(key)}\``), `${key}: variable`);
      if (def !== '') {
        assert.ok(row.includes(`\`${def}\``), `${key}: default ${def}`);
      }
    }
  });

test('README lists every nginx directive of the module', () => {
  // the command table of module.c and the directive macros it includes
  const src = ['ngx_http_echostream_module.c', 'ngx_http_echostream_auth_conf.h']
    .map((f) => readFileSync(path.join(ROOT, 'ngx_echostream_module', f),
      'utf8')).join('\n');
  const names = [...src.matchAll(
    /(?:ngx_string|NGX_HTTP_ECHOSTREAM_MAIN)\("(echostream_[a-z_]+)"/g)]
    .map((m) => m[1]);
  assert.ok(names.length >= 20, 'parsed the command table');
  for (const n of names) {
    assert.ok(readme.includes(`\`${n}`), `README does not document ${n}`);
  }
});

test('each worker --help prints the keys it reads', () => {
  for (const [w, prefixes] of [['ingest', ['redis', 'reddit.', 'ingest.',
                                           'stream.', 'log.', 'worker.']],
                               ['mirror', ['redis', 'mirror.', 'aws.',
                                           'log.', 'worker.']]]) {
    const out = execFileSync(bin(w), ['--help'], { encoding: 'utf8' });
    for (const { key } of configKeys()) {
      if (prefixes.some((p) => key === p || key.startsWith(p))) {
        assert.ok(out.includes(key), `${w} --help lacks ${key}`);
        assert.ok(out.includes(envName(key)), `${w} --help lacks ${envName(key)}`);
      }
    }
  }
});
