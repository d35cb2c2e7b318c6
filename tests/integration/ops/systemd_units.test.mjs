// systemd_units.test.mjs - `make install` puts every file where the units
// and nginx look for it, the units pass systemd's own checks, and
// `make uninstall` takes it all away again.
//
// The tree is installed into a temporary DESTDIR with PREFIX=/usr (the
// Debian layout the units name). systemd-analyze verify runs offline with
// --root at that tree, so it resolves ExecStart= against the installed
// binaries, not the checkout's; the root gets a copy of the host's own
// unit directory (for sysinit.target and the other default dependencies)
// and the kill binary ExecReload names. Any line verify prints is a
// failure: it reports unknown keys and bad values as warnings, with exit
// status 0. `systemd-analyze security --offline` scores the sandbox.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync,
  statSync, symlinkSync, copyFileSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';

import { ROOT, bin, startProc, startRedis, tmpDir, waitFor } from
  '../../lib/harness.mjs';
import { nginxTestInstalled } from '../../lib/nginx.mjs';

const UNIT_DIR = path.join(ROOT, 'deploy', 'systemd');
const WORKERS = ['ingest', 'enrich', 'mirror', 'summarize', 'alert'];
// what every worker unit must say, exactly
const REQUIRED = [
  'User=echostream', 'Group=echostream',
  'EnvironmentFile=-/etc/default/echostream', 'Restart=on-failure',
  'ExecReload=/bin/kill -HUP $MAINPID', 'TimeoutStopSec=30',
  'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes',
  'PrivateTmp=yes', 'PrivateDevices=yes', 'ProtectKernelTunables=yes',
  'ProtectControlGroups=yes', 'LockPersonality=yes',
  'MemoryDenyWriteExecute=yes', 'RestrictNamespaces=yes',
  'CapabilityBoundingSet=',
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
  'SystemCallFilter=@system-service',
];
const MAX_EXPOSURE = 2.0; // systemd-analyze security: 0 best, 10 worst

let dest;

function make(...args) {
  return execFileSync('make', ['--no-print-directory', ...args],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// every file under dir, relative to it
function files(dir, out = [], base = dir) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) files(p, out, base);
    else out.push(path.relative(base, p));
  }
  return out;
}

function unitLines(text) {
  return text.split('\n').map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

before(async () => {
  dest = await tmpDir('es-install-');
  make('install', `DESTDIR=${dest}`, 'PREFIX=/usr');
});

after(() => {
  if (dest) rmSync(dest, { recursive: true, force: true });
});

test('make install puts every file where the units and nginx look', () => {
  for (const w of [...WORKERS, 'sentiment']) {
    const b = path.join(dest, 'usr/bin', `echostream-${w}`);
    assert.ok(existsSync(b), `${b} installed`);
    assert.equal(statSync(b).mode & 0o777, 0o755, `${b} mode`);
    const help = spawnSync(b, ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `${w} --help: ${help.stderr}`);
    assert.match(help.stdout, /Usage: /);
  }
  assert.ok(existsSync(path.join(dest,
    'usr/lib/nginx/modules/ngx_http_echostream_module.so')));
  assert.equal(readFileSync(path.join(dest,
    'usr/share/nginx/modules-available/mod-http-echostream.conf'), 'utf8'),
  'load_module modules/ngx_http_echostream_module.so;\n');
  const share = path.join(dest, 'usr/share/echostream');
  assert.deepEqual(readFileSync(path.join(share, 'vader_lexicon.txt')),
    readFileSync(path.join(ROOT, 'lib/data/vader_lexicon.txt')));
  assert.ok(existsSync(path.join(share, 'LICENSE.vader')));
  assert.deepEqual(files(path.join(share, 'web')).sort(),
    files(path.join(ROOT, 'web/dist')).sort(), 'the dashboard, whole');
  const etc = path.join(dest, 'etc/echostream');
  assert.deepEqual(readdirSync(etc).sort(), [
    'default.example', 'echostream.conf', 'echostream.conf.example',
    'nginx-site.conf.example', 'redis-production.conf.example',
    'redis-tls-stunnel.conf.example', 'redis-tls-tunnel.conf.example',
    'users.acl.example']);
  assert.match(readFileSync(path.join(etc, 'echostream.conf'), 'utf8'),
    /^lake\.dir = \/var\/lib\/echostream\/lake$/m);
  const units = readdirSync(path.join(dest, 'usr/lib/systemd/system')).sort();
  assert.deepEqual(units, [...WORKERS.map((w) => `echostream-${w}.service`),
    'echostream.target'].sort());
  assert.ok(existsSync(path.join(dest, 'usr/lib/sysusers.d/echostream.conf')));
});

test('the installed workers find the lexicon in the installed share dir',
  () => {
    // out of the checkout: nothing relative to the source tree can help
    const sentiment = path.join(dest, 'usr/bin/echostream-sentiment');
    const r = spawnSync(sentiment, [], { cwd: dest, encoding: 'utf8',
      input: 'I love this, it is wonderful\n',
      env: { ...process.env, ECHOSTREAM_VADER_LEXICON: '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number(JSON.parse(r.stdout.split('\n')[0]).compound) > 0.5,
      r.stdout);
  });

test('every worker has a unit with the hardening and the installed paths',
  () => {
    for (const w of WORKERS) {
      const text = readFileSync(path.join(UNIT_DIR, `echostream-${w}.service`),
        'utf8');
      const lines = unitLines(text);
      for (const want of REQUIRED) {
        assert.ok(lines.includes(want), `echostream-${w}.service: ${want}`);
      }
      assert.ok(lines.includes(`ExecStart=/usr/bin/echostream-${w} --config ` +
        '/etc/echostream/echostream.conf'), `${w}: ExecStart`);
      assert.ok(lines.includes(`EnvironmentFile=-/etc/default/echostream-${w}`));
      assert.ok(lines.includes('WantedBy=echostream.target'));
      // only enrich writes (the raw archive), and only its state directory
      const rw = lines.filter((l) => /^(ReadWritePaths|StateDirectory)=/.test(l));
      assert.deepEqual(rw, w === 'enrich'
        ? ['StateDirectory=echostream', 'ReadWritePaths=/var/lib/echostream']
        : [], `${w}: writable paths`);
    }
    const target = unitLines(readFileSync(path.join(UNIT_DIR,
      'echostream.target'), 'utf8')).join(' ');
    for (const w of WORKERS) {
      assert.match(target, new RegExp(`Wants=[^=]*echostream-${w}\\.service`));
    }
  });

test('systemd-analyze verify accepts the installed units without a word',
  () => {
    // the host's units (default dependencies) and /bin/kill in the root
    const unitDir = path.join(dest, 'usr/lib/systemd/system');
    cpSync('/lib/systemd/system', unitDir, { recursive: true,
      force: false, errorOnExist: false, verbatimSymlinks: true });
    if (!existsSync(path.join(dest, 'bin'))) symlinkSync('usr/bin',
      path.join(dest, 'bin'));
    copyFileSync('/usr/bin/kill', path.join(dest, 'usr/bin/kill'));
    const units = [...WORKERS.map((w) => `echostream-${w}.service`),
      'echostream.target'].map((u) => path.join(unitDir, u));
    const r = spawnSync('systemd-analyze', ['verify', `--root=${dest}`,
      ...units], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), '', 'verify said something');
    for (const w of WORKERS) {
      const s = spawnSync('systemd-analyze', ['security', '--offline=yes',
        `--root=${dest}`, path.join(unitDir, `echostream-${w}.service`)],
      { encoding: 'utf8' });
      const m = /Overall exposure level for [^:]+: ([0-9.]+)/.exec(s.stdout);
      assert.ok(m, `security score of ${w}: ${s.stdout}${s.stderr}`);
      assert.ok(Number(m[1]) <= MAX_EXPOSURE, `${w}: exposure ${m[1]}`);
    }
  });

test('systemd-sysusers creates the echostream user the units run as',
  async () => {
    const root = await tmpDir('es-sysusers-');
    mkdirSync(path.join(root, 'etc'));
    try {
      const r = spawnSync('systemd-sysusers', [`--root=${root}`,
        path.join(dest, 'usr/lib/sysusers.d/echostream.conf')],
      { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(readFileSync(path.join(root, 'etc/passwd'), 'utf8'),
        /^echostream:x:\d+:\d+:[^:]*:\/var\/lib\/echostream:\/usr\/sbin\/nologin$/m);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

test('SIGHUP (the units\' reload) re-reads the configuration and the ' +
     'worker keeps running', async () => {
  const redis = await startRedis();
  const d = await tmpDir('es-hup-');
  try {
    const conf = path.join(d, 'echostream.conf');
    writeFileSync(conf, 'log.level = info\n');
    const p = startProc(bin('alert'), ['--config', conf], { name: 'alert',
      env: { ECHOSTREAM_REDIS: redis.url, ECHOSTREAM_WORKER_HEARTBEAT: '0.1',
             ECHOSTREAM_MAIL_TRANSPORT: 'none' } });
    try {
      await waitFor(async () => (await redis.cmd('HKEYS', 'es:workers'))
        .some((k) => k.endsWith(`-${p.pid}`)), { what: 'alert heartbeat' });
      writeFileSync(conf, 'log.level = debug\n');
      p.kill('SIGHUP');
      // debug lines (a heartbeat's) appear: the new level is applied
      await waitFor(() => /level=debug/.test(p.output()),
        { what: 'debug lines after SIGHUP' });
      assert.equal(p.child.exitCode, null, 'still running');
    } finally {
      p.kill('SIGTERM');
      assert.equal((await p.exited).code, 0, p.output());
    }
  } finally {
    await redis.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test('nginx -t accepts the installed site with the installed module',
  async () => {
    const r = await nginxTestInstalled(dest);
    assert.equal(r.status, 0, r.stderr);
  });

test('make uninstall removes what make install put there', async () => {
  // a second root, so the files the verify test added do not count
  const d = await tmpDir('es-uninstall-');
  try {
    make('install', `DESTDIR=${d}`, 'PREFIX=/usr');
    make('uninstall', `DESTDIR=${d}`, 'PREFIX=/usr');
    assert.deepEqual(files(d), [], 'files left behind');
    // an edited echostream.conf is the operator's: it stays
    make('install', `DESTDIR=${d}`, 'PREFIX=/usr');
    const conf = path.join(d, 'etc/echostream/echostream.conf');
    execFileSync('sh', ['-c', `echo 'log.level = debug' >>'${conf}'`]);
    make('uninstall', `DESTDIR=${d}`, 'PREFIX=/usr');
    assert.deepEqual(files(d), ['etc/echostream/echostream.conf']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('another PREFIX: the units and examples name its paths', async () => {
  const d = await tmpDir('es-prefix-');
  try {
    make('install', `DESTDIR=${d}`, 'PREFIX=/opt/es');
    const unit = readFileSync(path.join(d,
      'opt/es/lib/systemd/system/echostream-ingest.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/opt\/es\/bin\/echostream-ingest --config \/opt\/es\/etc\/echostream\/echostream\.conf$/m);
    assert.equal(readFileSync(path.join(d, 'opt/es/share/nginx/' +
      'modules-available/mod-http-echostream.conf'), 'utf8'),
    'load_module /opt/es/lib/nginx/modules/ngx_http_echostream_module.so;\n');
    assert.match(readFileSync(path.join(d,
      'opt/es/etc/echostream/nginx-site.conf.example'), 'utf8'),
    /root \/opt\/es\/share\/echostream\/web;/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
