// docs.test.mjs - the documentation tells the truth about the code.
//
// The README's configuration reference must list every key of the worker
// configuration table (lib/es_config_keys.c) with its environment variable
// and default; docs/module.md must document exactly the directives the
// module's command table registers, and nginx must know each of them;
// each worker's --help must print every key it reads. A key or directive
// added without its documentation fails here. The Redis keys, stream
// fields and per-comment record members of docs/redis-keys.md must be
// exactly those of their tables in lib/ (es_keys.h, es_comment.h,
// es_record.h).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { ROOT, bin } from '../../lib/harness.mjs';
import { nginxConfTest } from '../../lib/nginx.mjs';

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

// The module's one command table: the directive names it registers.
function registeredDirectives() {
  const src = readFileSync(path.join(ROOT, 'ngx_echostream_module', 'core',
    'ngx_http_echostream_directives.c'), 'utf8');
  return [...src.matchAll(/^\s*[HML]\("(echostream_[a-z_]+)"/gm)]
    .map((m) => m[1]);
}

// The directive table of docs/module.md: the names of its rows.
function documentedDirectives() {
  const doc = readFileSync(path.join(ROOT, 'docs/module.md'), 'utf8');
  return doc.split('\n')
    .map((l) => /^\| `(echostream_[a-z_]+)[ ;]/.exec(l))
    .filter(Boolean).map((m) => m[1]);
}

test('docs/module.md documents every registered directive, and only those',
  () => {
    const registered = registeredDirectives();
    const documented = documentedDirectives();
    assert.ok(registered.length >= 25, 'parsed the command table');
    assert.equal(new Set(registered).size, registered.length,
      'a directive is registered twice');
    assert.equal(new Set(documented).size, documented.length,
      'a directive is documented twice');
    for (const n of registered) {
      assert.ok(documented.includes(n), `docs/module.md does not document ${n}`);
    }
    for (const n of documented) {
      assert.ok(registered.includes(n), `${n} is documented but not registered`);
    }
  });

test('nginx with the module knows every documented directive', async () => {
  for (const n of documentedDirectives()) {
    // no argument at all: nginx objects to the arguments or the place,
    // never to the name, when the module registered it
    const r = await nginxConfTest({ extraConf: `${n};` });
    assert.equal(r.ok, false, `${n}; alone must fail`);
    assert.doesNotMatch(r.output, /unknown directive/, `${n}: ${r.output}`);
  }
  const r = await nginxConfTest({ extraConf: 'echostream_no_such_thing 1;' });
  assert.match(r.output, /unknown directive "echostream_no_such_thing"/);
});

test('README points to the one directive reference', () => {
  assert.ok(readme.includes('(docs/module.md#directives)'));
  assert.ok(!/^\| `echostream_/m.test(readme),
    'README keeps a second directive table');
});

// The key table of lib/es_keys.h: tenant keys (pattern after the
// tenant's prefix) and the constant keys and key prefixes (ES_KEY_*).
function keyTable() {
  const h = readFileSync(path.join(ROOT, 'lib/es_keys.h'), 'utf8');
  const tenant = [...h.matchAll(/^\s*X\(([A-Z_]+), [^,]+, "([^"]+)"\)/gm)]
    .map((m) => m[2]);
  const global = [...h.matchAll(/^#define ES_KEY_[A-Z_]+\s+"(es:[^"%]+)"/gm)]
    .map((m) => m[1]);
  return { tenant, global };
}

// The keys docs/redis-keys.md lists in its tables.
function documentedKeys() {
  const doc = readFileSync(path.join(ROOT, 'docs/redis-keys.md'), 'utf8');
  return [...doc.matchAll(/^\| `(es:[^`]+)` \|/gm)].map((m) => m[1]);
}

test('docs/redis-keys.md lists every key of lib/es_keys.h, and only those',
  () => {
    const { tenant, global } = keyTable();
    const docs = documentedKeys();
    assert.ok(tenant.length >= 20 && global.length >= 15, 'parsed the table');
    const prefix = 'es:{t:<tenant>}:';
    const docTenant = docs.filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length));
    const docGlobal = docs.filter((k) => !k.startsWith(prefix));
    for (const k of tenant) {
      assert.ok(docTenant.includes(k), `docs/redis-keys.md lacks ${prefix}${k}`);
    }
    for (const k of docTenant) {
      assert.ok(tenant.includes(k),
        `${prefix}${k} is documented but not in ES_TENANT_KEYS`);
    }
    // a constant is documented as is; a prefix ends in ':' and is
    // documented with a placeholder after it
    for (const k of global) {
      assert.ok(docGlobal.some((d) => d === k ||
        (k.endsWith(':') && d.startsWith(k) && /^<[^>]+>$/.test(d.slice(k.length)))),
      `docs/redis-keys.md lacks ${k}`);
    }
    for (const d of docGlobal) {
      assert.ok(global.some((k) => d === k ||
        (k.endsWith(':') && d.startsWith(k) && /^<[^>]+>$/.test(d.slice(k.length)))),
      `${d} is documented but not in lib/es_keys.h`);
    }
  });

test('docs/redis-keys.md lists every field of a stream entry, and only those',
  () => {
    const h = readFileSync(path.join(ROOT, 'lib/es_comment.h'), 'utf8');
    const fields = [...h.matchAll(/^#define ES_F_[A-Z_]+\s+"([a-z_]+)"/gm)]
      .map((m) => m[1]);
    assert.ok(fields.length >= 10, 'parsed es_comment.h');
    const doc = readFileSync(path.join(ROOT, 'docs/redis-keys.md'), 'utf8');
    // the table after "Entry fields", up to the first line that is not a row
    const at = doc.indexOf('Entry fields');
    assert.ok(at > 0, 'docs/redis-keys.md has the entry fields');
    const rows = [];
    for (const line of doc.slice(at).split('\n').slice(2)) {
      if (!line.startsWith('|')) break;
      const m = /^\| `([a-z_]+)` \|/.exec(line);
      if (m) rows.push(m[1]);
    }
    assert.deepEqual([...rows].sort(), [...fields].sort());
  });

// The per-comment record's members as lib/es_record.h lists them:
// [{member, type}], in the table's order.
function recordTable() {
  const h = readFileSync(path.join(ROOT, 'lib/es_record.h'), 'utf8');
  return [...h.matchAll(/\bX\(([A-Z_]+), "([a-z_]+)", "([a-z ]+)",/g)]
    .map((m) => ({ member: m[2], type: m[3] }));
}

// The record members docs/redis-keys.md documents: the rows of the table
// headed "| member | type | meaning |", up to the first line that is not a
// row.
function documentedRecord() {
  const doc = readFileSync(path.join(ROOT, 'docs/redis-keys.md'), 'utf8');
  const at = doc.indexOf('| member | type | meaning |');
  assert.ok(at > 0, 'docs/redis-keys.md has the table of record members');
  const rows = [];
  for (const line of doc.slice(at).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const m = /^\| `([a-z_]+)` \| ([a-z ]+) \| [^|]+ \|$/.exec(line);
    assert.ok(m, `a malformed row of record members: ${line}`);
    rows.push({ member: m[1], type: m[2] });
  }
  return rows;
}

test('docs/redis-keys.md documents every member of the record table, and only those',
  () => {
    const table = recordTable();
    const docs = documentedRecord();
    assert.ok(table.length >= 19, 'parsed lib/es_record.h');
    const names = (l) => l.map((r) => r.member);
    assert.equal(new Set(names(table)).size, table.length,
      'a member is in lib/es_record.h twice');
    assert.equal(new Set(names(docs)).size, docs.length,
      'a member is documented twice');
    for (const r of table) {
      const d = docs.find((x) => x.member === r.member);
      assert.ok(d, `docs/redis-keys.md does not document record member ${r.member}`);
      assert.equal(d.type, r.type, `${r.member}: documented type`);
    }
    for (const d of docs) {
      assert.ok(table.some((r) => r.member === d.member),
        `record member ${d.member} is documented but not in lib/es_record.h`);
    }
  });

// The JSON example of docs/redis-keys.md is a record as the table has it:
// every member of a live record, in the table's order.
test('the record example of docs/redis-keys.md has the table\'s members in order',
  () => {
    const doc = readFileSync(path.join(ROOT, 'docs/redis-keys.md'), 'utf8');
    const m = /```json\n(\{"id"[\s\S]*?\})\n```/.exec(doc);
    assert.ok(m, 'docs/redis-keys.md has the record example');
    const example = JSON.parse(m[1]);
    const live = recordTable().map((r) => r.member)
      .filter((n) => n !== 'deleted');
    assert.deepEqual(Object.keys(example), live);
  });

test('each worker --help prints the keys it reads', () => {
  for (const [w, prefixes] of [['ingest', ['redis', 'reddit.', 'ingest.',
                                           'stream.', 'log.', 'worker.']],
                               ['mirror', ['redis', 'mirror.', 'aws.',
                                           'log.', 'worker.']],
                               ['alert', ['redis', 'alert.', 'mail.',
                                          'smtp.', 'ses.', 'webhook.',
                                          'aws.', 'log.', 'worker.']]]) {
    const out = execFileSync(bin(w), ['--help'], { encoding: 'utf8' });
    for (const { key } of configKeys()) {
      if (prefixes.some((p) => key === p || key.startsWith(p))) {
        assert.ok(out.includes(key), `${w} --help lacks ${key}`);
        assert.ok(out.includes(envName(key)), `${w} --help lacks ${envName(key)}`);
      }
    }
  }
});
