// deb_packages.test.mjs - `make deb` really builds the two Debian packages,
// and they hold what docs/install.md says: the files in Debian's places,
// the dependency on the nginx ABI, the conffiles, maintainer scripts that
// enable the module, create the user and leave the units disabled, and
// purge that takes the configuration.
//
// Offline and without changing the system: the build dependencies are
// already installed (ECHOSTREAM_SKIP_DEPS=1), and the packages are only
// read (dpkg-deb) and unpacked into a temporary directory, never installed;
// tests/pkg/install-check.sh installs them into a fresh root. The package
// build compiles in its own copy (build/pkg/, debian/rules), so it must
// leave the developer build and the checkout as they were: the suites that
// follow read build/gen/es_build_info.h. A second `make deb` recompiles
// only what changed, so this suite is slow (about 40 s) only after a
// change to every source, as on a fresh checkout. lintian runs when it is
// installed (install-deps.sh installs it; about 5 s).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync,
  writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, tmpDir } from '../../lib/harness.mjs';
import { nginxTestInstalled } from '../../lib/nginx.mjs';

const OUT = path.join(ROOT, 'build', 'deb');
const WORKERS = ['ingest', 'enrich', 'mirror', 'summarize', 'alert'];
const MODPKG = 'libnginx-mod-http-echostream';
const VERSION = /^ES_VERSION := (\S+)$/m.exec(
  readFileSync(path.join(ROOT, 'Makefile'), 'utf8'))[1];
const ARCH = execFileSync('dpkg', ['--print-architecture'],
  { encoding: 'utf8' }).trim();
const DEVINFO = path.join(ROOT, 'build', 'gen', 'es_build_info.h');

let unpacked; // both packages unpacked here, as dpkg would lay them out
let devInfo; // the developer build's es_build_info.h before make deb
const deb = (p) => path.join(OUT, `${p}_${VERSION}_${ARCH}.deb`);
const field = (p, f) => execFileSync('dpkg-deb', ['-f', deb(p), f],
  { encoding: 'utf8' }).trim();
// the paths a package holds, without the leading "." and the directories
function contents(p) {
  return execFileSync('dpkg-deb', ['-c', deb(p)], { encoding: 'utf8' })
    .split('\n').filter((l) => l && !l.startsWith('d'))
    .map((l) => l.split(/\s+/).slice(5).join(' ').replace(/^\./, ''))
    .map((l) => l.replace(/ -> .*$/, ''));
}
// one control file of a package (postinst, conffiles …), or ''
function control(p, name) {
  const r = spawnSync('dpkg-deb', ['--info', deb(p), name],
    { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

before(async () => {
  // any make brings the developer build's header up to date with the
  // revision (mk/build-info.sh); what make deb does beyond that must not
  // touch it
  execFileSync('make', ['--no-print-directory', '-n', 'deb'],
    { cwd: ROOT, stdio: 'ignore' });
  devInfo = existsSync(DEVINFO) ? readFileSync(DEVINFO, 'utf8') : null;
  const t0 = Date.now();
  const r = spawnSync('make', ['--no-print-directory', 'deb'], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20,
    // a setting of the build machine, which must not reach the packages
    env: { ...process.env, ECHOSTREAM_SKIP_DEPS: '1',
      ECHOSTREAM_LOG_LEVEL: 'debug' },
  });
  assert.equal(r.status, 0, `make deb failed:\n${(r.stdout + r.stderr)
    .split('\n').slice(-40).join('\n')}`);
  console.log(`# make deb took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  unpacked = await tmpDir('es-deb-');
  for (const p of ['echostream', MODPKG]) {
    execFileSync('dpkg-deb', ['-x', deb(p), unpacked]);
  }
});

after(() => {
  if (unpacked) rmSync(unpacked, { recursive: true, force: true });
});

test('make deb writes the two packages at the Makefile\'s version', () => {
  const debs = readdirSync(OUT).filter((f) => f.endsWith('.deb')).sort();
  assert.deepEqual(debs, [`echostream_${VERSION}_${ARCH}.deb`,
    `${MODPKG}_${VERSION}_${ARCH}.deb`]);
  const changes = readFileSync(path.join(OUT,
    `echostream_${VERSION}_${ARCH}.changes`), 'utf8');
  assert.match(changes, new RegExp(`^Version: ${VERSION.replace(/\./g,
    '\\.')}$`, 'm'));
  for (const p of ['echostream', MODPKG]) {
    assert.equal(field(p, 'Version'), VERSION, `${p} version`);
    assert.equal(field(p, 'Architecture'), ARCH);
  }
  // debian/changelog is checked against ES_VERSION by debian/rules
  const cl = execFileSync('dpkg-parsechangelog', ['-S', 'Version'],
    { cwd: ROOT, encoding: 'utf8' }).trim();
  assert.equal(cl, VERSION, 'debian/changelog agrees with ES_VERSION');
});

test('the module package: the .so, its snippet, the exact nginx ABI',
  () => {
    assert.deepEqual(contents(MODPKG).sort(), [
      '/usr/lib/nginx/modules/ngx_http_echostream_module.so',
      `/usr/share/doc/${MODPKG}/changelog.gz`,
      `/usr/share/doc/${MODPKG}/copyright`,
      '/usr/share/nginx/modules-available/mod-http-echostream.conf',
    ]);
    assert.equal(readFileSync(path.join(unpacked,
      'usr/share/nginx/modules-available/mod-http-echostream.conf'), 'utf8'),
    'load_module modules/ngx_http_echostream_module.so;\n');
    // the ABI nginx-dev records, as dh_nginx writes it
    const abi = /^nginx:abi=(\S+)$/m.exec(readFileSync(
      '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars', 'utf8'))[1];
    const deps = field(MODPKG, 'Depends').split(/,\s*/);
    assert.ok(deps.includes(abi), `Depends ${deps} has ${abi}`);
    assert.ok(deps.some((d) => d.startsWith('libhiredis0.14')), 'shlibs');
    // enabled through modules-enabled, and disabled again on removal
    const postinst = control(MODPKG, 'postinst');
    assert.match(postinst, /mod-http-echostream\.conf:50-mod-http-echostream\.conf/);
    assert.match(postinst, /ln -sf \/usr\/share\/nginx\/modules-available\/\$from/);
    assert.match(postinst, /\/etc\/nginx\/modules-enabled\/\$to/);
    assert.match(control(MODPKG, 'prerm'), /\$to\.removed/);
    assert.match(control(MODPKG, 'postrm'), /"purge"[\s\S]*rm \/etc\/nginx\/modules-enabled\/\$to/);
  });

test('the echostream package: workers, data, examples, units, user', () => {
  const got = contents('echostream');
  const want = [
    ...[...WORKERS, 'sentiment'].map((w) => `/usr/bin/echostream-${w}`),
    '/usr/share/echostream/vader_lexicon.txt',
    '/usr/share/echostream/LICENSE.vader',
    '/usr/share/echostream/web/index.html',
    ...WORKERS.map((w) => `/lib/systemd/system/echostream-${w}.service`),
    '/lib/systemd/system/echostream.target',
    '/usr/lib/sysusers.d/echostream.conf',
    '/usr/share/doc/echostream/copyright',
    ...[...WORKERS, 'sentiment'].map((w) =>
      `/usr/share/man/man1/echostream-${w}.1.gz`),
  ];
  for (const f of want) assert.ok(got.includes(f), `${f} in the package`);
  // the page's assets are shipped beside it
  const index = readFileSync(path.join(unpacked,
    'usr/share/echostream/web/index.html'), 'utf8');
  const assets = [...index.matchAll(/assets\/(app-[A-Za-z0-9]+\.(?:js|css))/g)]
    .map((m) => `/usr/share/echostream/web/assets/${m[1]}`);
  assert.equal(assets.length, 2, 'index.html names its script and style');
  for (const a of assets) assert.ok(got.includes(a), a);
  // nothing outside the places docs/install.md lists
  const places = [/^\/usr\/bin\/echostream-/, /^\/usr\/share\/echostream\//,
    /^\/etc\/echostream\//, /^\/lib\/systemd\/system\/echostream/,
    /^\/usr\/lib\/sysusers\.d\/echostream\.conf$/,
    /^\/usr\/share\/doc\/echostream\//,
    /^\/usr\/share\/man\/man1\/echostream-[a-z]+\.1\.gz$/,
    /^\/usr\/share\/lintian\/overrides\/echostream$/];
  const stray = got.filter((f) => !places.some((re) => re.test(f)));
  assert.deepEqual(stray, []);
  for (const w of [...WORKERS, 'sentiment']) {
    assert.equal(statSync(path.join(unpacked, 'usr/bin', `echostream-${w}`))
      .mode & 0o777, 0o755);
  }
  // /etc/echostream holds what make install puts there (echostream.conf
  // and the examples mk/install.mk lists), and every file is a conffile
  const examples = [...readFileSync(path.join(ROOT, 'mk/install.mk'), 'utf8')
    .matchAll(/^\s*(?:ES_EXAMPLES\s*:=)?\s*[\w./-]+:([\w.-]+\.example)\b/gm)]
    .map((m) => m[1]);
  assert.ok(examples.includes('nginx-site.conf.example'), `${examples}`);
  const etc = got.filter((f) => f.startsWith('/etc/')).sort();
  assert.deepEqual(etc, ['echostream.conf', ...examples]
    .map((f) => `/etc/echostream/${f}`).sort());
  assert.deepEqual(control('echostream', 'conffiles').trim().split('\n')
    .sort(), etc);
  const deps = field('echostream', 'Depends');
  assert.match(deps, /systemd \| systemd-standalone-sysusers/);
  assert.match(deps, /libhiredis0\.14/);
  // /bin/kill, which the units' ExecReload runs
  assert.ok(deps.split(/,\s*/).includes('procps'), deps);
  const rec = field('echostream', 'Recommends');
  assert.match(rec, new RegExp(`${MODPKG} \\(= ${VERSION.replace(/\./g,
    '\\.')}\\)`));
  assert.match(rec, /redis-server \(>= 5:7\.0\)/);
});

test('maintainer scripts: the user is created, no unit enabled or started',
  () => {
    const postinst = control('echostream', 'postinst');
    assert.match(postinst, /systemd-sysusers .*echostream\.conf/);
    for (const u of [...WORKERS.map((w) => `echostream-${w}.service`),
      'echostream.target']) {
      assert.ok(postinst.includes(`deb-systemd-helper update-state '${u}'`),
        `${u} known to deb-systemd-helper`);
    }
    // dh_installsystemd --no-enable: a unit is enabled again only if the
    // operator had it enabled before (an upgrade), never on a first
    // installation, whose snippet says so
    for (const u of [...WORKERS.map((w) => `echostream-${w}.service`),
      'echostream.target']) {
      assert.ok(postinst.includes(`deb-systemd-helper debian-installed '${u}'`),
        `${u}: the snippet that does not enable`);
    }
    assert.doesNotMatch(postinst, /new installations run enable/);
    // start only on upgrade; deb-systemd-invoke skips disabled units
    assert.match(postinst, /_dh_action=restart/);
    // removal stops the units
    assert.match(control('echostream', 'prerm'),
      /deb-systemd-invoke stop 'echostream-alert\.service'/);
    // purge: the operator's secrets and the units' state
    const postrm = control('echostream', 'postrm');
    assert.match(postrm, /rm -f \/etc\/echostream\/config\.json \/etc\/echostream\/mail\.secret/);
    assert.match(postrm, /\/etc\/default\/echostream\$w/);
    assert.match(postrm, /deb-systemd-helper purge/);
  });

test('the packaged programs: hardened, dated by the changelog, find their data',
  () => {
    const date = execFileSync('dpkg-parsechangelog', ['-S', 'Timestamp'],
      { cwd: ROOT, encoding: 'utf8' }).trim();
    const iso = new Date(Number(date) * 1000).toISOString()
      .replace(/\.\d+Z$/, 'Z');
    for (const w of [...WORKERS, 'sentiment']) {
      const b = path.join(unpacked, 'usr/bin', `echostream-${w}`);
      const v = execFileSync(b, ['--version'], { encoding: 'utf8' });
      assert.match(v, new RegExp(`^echostream-${w} ${VERSION.replace(/\./g,
        '\\.')} \\(revision \\S+, built ${iso}\\)`), `${w}: ${v}`);
      // Debian's hardening flags: full RELRO, stack protector, fortify
      const dyn = execFileSync('readelf', ['-d', '-W', b],
        { encoding: 'utf8' });
      assert.match(dyn, /BIND_NOW|FLAGS.*\bNOW\b/, `${w}: bindnow`);
      const hdr = execFileSync('readelf', ['-l', '-W', b],
        { encoding: 'utf8' });
      assert.match(hdr, /GNU_RELRO/, `${w}: relro`);
      const syms = execFileSync('readelf', ['--dyn-syms', '-W', b],
        { encoding: 'utf8' });
      assert.match(syms, /__stack_chk_fail/, `${w}: stack protector`);
    }
    assert.match(execFileSync('readelf', ['--dyn-syms', '-W', path.join(
      unpacked, 'usr/bin/echostream-enrich')], { encoding: 'utf8' }),
    /__\w+_chk@/, 'fortified calls');
    // the lexicon is found beside the binary, in the package's share dir
    const r = spawnSync(path.join(unpacked, 'usr/bin/echostream-sentiment'),
      [], { input: 'I love this, it is wonderful\n', encoding: 'utf8',
        env: { ...process.env, ECHOSTREAM_VADER_LEXICON: '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout.split('\n')[0]).compound > 0.5, r.stdout);
  });

test('the manual pages show the defaults and the changelog\'s date', () => {
  const page = execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | ' +
    'tar -xO ./usr/share/man/man1/echostream-alert.1.gz | zcat', 'sh',
  deb('echostream')], { encoding: 'utf8' });
  assert.match(page, /^\.SH NAME\necho[^\n]*alert \\- evaluates alert rules/m);
  assert.match(page, /ECHOSTREAM_LOG_LEVEL, default "info", now "info" \(default\)/,
    'not the build environment\'s debug');
  const ts = Number(execFileSync('dpkg-parsechangelog', ['-S', 'Timestamp'],
    { cwd: ROOT, encoding: 'utf8' }));
  const month = new Date(ts * 1000).toLocaleString('en-US',
    { month: 'long', year: 'numeric', timeZone: 'UTC' });
  assert.match(page, new RegExp(`^\\.TH ECHOSTREAM-ALERT "1" "${month}"`, 'm'));
});

test('nginx -t loads the packaged module with the shipped site example',
  async () => {
    const r = await nginxTestInstalled(unpacked);
    assert.equal(r.status, 0, r.stderr);
  });

test('the package build leaves the checkout and the developer build alone',
  () => {
    const left = ['tmp', 'files', '.debhelper', 'echostream', MODPKG,
      'echostream.substvars', `${MODPKG}.substvars`,
      'debhelper-build-stamp']
      .filter((f) => existsSync(path.join(ROOT, 'debian', f)));
    assert.deepEqual(left, [], 'debian/ cleaned after the build');
    if (devInfo !== null) {
      assert.equal(readFileSync(DEVINFO, 'utf8'), devInfo,
        'build/gen/es_build_info.h untouched');
    }
  });

test('lintian finds no error and no warning', { skip:
  spawnSync('lintian', ['--version']).status !== 0 &&
  'lintian is not installed' }, () => {
  const r = spawnSync('lintian', ['--fail-on', 'error,warning',
    deb('echostream'), deb(MODPKG)], { encoding: 'utf8' });
  const tags = (r.stdout + r.stderr).split('\n')
    .filter((l) => /^[EW]: /.test(l));
  assert.deepEqual(tags, []);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
