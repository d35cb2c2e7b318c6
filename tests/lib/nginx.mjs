// nginx.mjs - runs the real nginx with the EchoStream module for tests.
//
// The configuration is conf/nginx.conf.in, the same template `make run`
// uses, rendered into a fresh prefix directory per nginx, so several run
// side by side and nothing is written outside the temporary directory.
// Extra directives go where the template marks them: mainConf at the top
// level (load_module, a stream block), extraConf at http level, serverConf
// inside the server block.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync }
  from 'node:fs';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ROOT, BUILD, tmpDir, freePort, startProc, waitFor, sleep }
  from './harness.mjs';

export const NGINX = process.env.ES_NGINX || '/usr/sbin/nginx';
export const MODULE = process.env.ES_NGINX_MODULE
  || path.join(BUILD, 'ngx_http_echostream_module.so');
const TEMPLATE = path.join(ROOT, 'conf', 'nginx.conf.in');

const HTTP_MARK = '    # (tests insert extra http-level directives here)';
const SERVER_MARK = '        # (tests insert extra server-level directives here)';
const MAIN_MARK = '# (tests insert extra main-level directives here)';

// Renders the template; every @NAME@ must get a value.
export function renderNginxConf(vars, { extraConf = '', serverConf = '',
                                       mainConf = '' } = {}) {
  let text = readFileSync(TEMPLATE, 'utf8');
  for (const [k, v] of Object.entries(vars)) {
    text = text.split(`@${k}@`).join(String(v));
  }
  const left = text.match(/@[A-Z_]+@/g);
  if (left) throw new Error(`${TEMPLATE}: no value for ${[...new Set(left)]}`);
  if (!text.includes(HTTP_MARK) || !text.includes(SERVER_MARK) ||
      !text.includes(MAIN_MARK)) {
    throw new Error(`${TEMPLATE}: insertion marks are missing`);
  }
  return text.replace(MAIN_MARK, `${MAIN_MARK}\n${mainConf}`)
    .replace(HTTP_MARK, `${HTTP_MARK}\n${extraConf}`)
    .replace(SERVER_MARK, `${SERVER_MARK}\n${serverConf}`);
}

// Creates a prefix directory with logs/, tmp/ and a rendered nginx.conf.
async function preparePrefix({ redisUrl, webRoot, runDir, extraConf,
                               serverConf, mainConf, port,
                               module = MODULE }) {
  if (!existsSync(module)) {
    throw new Error(`${module} is missing: run make module first`);
  }
  const prefix = await tmpDir('es-nginx-');
  // workers may run as another user than the test: let them in
  chmodSync(prefix, 0o755);
  mkdirSync(path.join(prefix, 'logs'));
  mkdirSync(path.join(prefix, 'tmp'));
  let rd = runDir;
  if (!rd) {
    rd = path.join(prefix, 'run');
    mkdirSync(rd);
    writeFileSync(path.join(rd, 'config.json'), '{"test":true}\n');
  }
  const { username } = os.userInfo();
  const group = process.getgid() === 0 ? 'root' : username;
  const conf = renderNginxConf({
    PREFIX: prefix, PORT: port, MODULE: module, REDIS: redisUrl,
    WEB_ROOT: webRoot || path.join(ROOT, 'web', 'dist'), RUN_DIR: rd,
    IDP_ORIGINS: '',
    USER: username, GROUP: group, EXPECT_WORKERS: 'ingest mirror',
    API_HTTP: '', API_SERVER: '',
  }, { extraConf, serverConf, mainConf });
  const confPath = path.join(prefix, 'nginx.conf');
  writeFileSync(confPath, conf);
  return { prefix, confPath, runDir: rd };
}

// Runs `nginx -t` on a rendered configuration: {ok, output}.
export async function nginxConfTest({ redisUrl = 'redis://127.0.0.1:1/0',
                                      extraConf = '', serverConf = '' } = {}) {
  const port = await freePort();
  const { prefix, confPath } = await preparePrefix({ redisUrl, extraConf,
    serverConf, port });
  const p = startProc(NGINX, ['-t', '-p', `${prefix}/`, '-c', confPath,
    '-e', 'stderr'], { name: 'nginx-t' });
  const { code } = await p.exited;
  return { ok: code === 0, output: p.output() };
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// True when startNginx's hosts option works here: root, with unshare(1)
// and mount namespaces.
// `nginx -t` on an installed tree (make install's DESTDIR, an unpacked
// package): its module snippet and its site example, as shipped, in a
// bare nginx.conf. The Cognito pool's host is resolved at configuration
// time, so an issuer on loopback stands in for it (no network in the
// tests). Returns spawnSync's result.
export async function nginxTestInstalled(root) {
  const d = await tmpDir('es-site-');
  try {
    const site = readFileSync(path.join(root,
      'etc/echostream/nginx-site.conf.example'), 'utf8')
      .replace(/^echostream_cognito .*$/m,
        'echostream_issuer http://127.0.0.1:9/pool;');
    writeFileSync(path.join(d, 'site.conf'), site);
    const snippet = readFileSync(path.join(root,
      'usr/share/nginx/modules-available/mod-http-echostream.conf'), 'utf8')
      .replace('modules/', `${root}/usr/lib/nginx/modules/`);
    writeFileSync(path.join(d, 'nginx.conf'), [snippet,
      `pid ${d}/nginx.pid;`, 'events {}', 'http {',
      `    client_body_temp_path ${d}/tmp;`,
      `    include ${d}/site.conf;`, '}'].join('\n'));
    return spawnSync(NGINX, ['-t', '-p', `${d}/`, '-c',
      path.join(d, 'nginx.conf'), '-e', path.join(d, 'error.log')],
    { encoding: 'utf8' });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

// The command line that runs a program with a hosts file of the test's as
// its /etc/hosts, in a mount namespace of its own (needs root). Where
// /etc/hosts exists the file is bound over it; a minimal root
// (debootstrap's minbase) has none to bind over, so there a copy of /etc
// whose hosts links to the test's file is bound over /etc. Either way the
// test may rewrite its file and the program sees the new text.
export function withHosts(hostsFile, cmd, args = []) {
  const wrap = 'if [ -e /etc/hosts ]; then mount --bind "$0" /etc/hosts; ' +
    'else d=$(mktemp -d) && cp -a /etc/. "$d" && ln -s "$0" "$d/hosts" && ' +
    'mount --bind "$d" /etc; fi && exec "$@"';
  return ['unshare', ['-m', 'sh', '-c', wrap, hostsFile, cmd, ...args]];
}

export function canFakeHosts() {
  if (process.getuid?.() !== 0) return false;
  const [cmd, args] = withHosts('/dev/null', 'true');
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

// Starts nginx in the foreground (daemon off) under the harness, waits until
// its port answers. Returns {port, url, prefix, runDir, proc, errorLog(),
// stop(), reload()}. hosts (text of an /etc/hosts file) runs nginx in a
// mount namespace of its own where that file is /etc/hosts, so a test
// controls what a host name resolves to (needs root: see canFakeHosts).
export async function startNginx({ redisUrl, webRoot, runDir, extraConf = '',
                                   serverConf = '', mainConf = '', env,
                                   module, hosts } = {}) {
  const port = await freePort();
  const prep = await preparePrefix({ redisUrl, webRoot, runDir, extraConf,
    serverConf, mainConf, port, module });
  const logPath = path.join(prep.prefix, 'logs', 'error.log');
  const args = ['-p', `${prep.prefix}/`, '-c', prep.confPath, '-e', 'stderr'];
  let proc;
  if (hosts !== undefined) {
    const hostsFile = path.join(prep.prefix, 'hosts');
    writeFileSync(hostsFile, hosts);
    const [cmd, wrapped] = withHosts(hostsFile, NGINX, args);
    proc = startProc(cmd, wrapped, { name: 'nginx', env });
  } else {
    proc = startProc(NGINX, args, { name: 'nginx', env });
  }
  const errorLog = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8')
                                              : '');
  // an nginx that exits before it answers (a configuration it refused)
  // fails the start at once, not after the wait's time-out
  let up = false;
  let exited = null;
  proc.exited.then((e) => { exited = e; });
  const died = proc.exited.then((e) => {
    if (!up) {
      throw new Error(`nginx exited (${JSON.stringify(e)}): ` +
                      `${proc.output()}\n${errorLog()}`);
    }
  });
  died.catch(() => {});
  await Promise.race([
    waitFor(() => portAnswers(port),
            { timeout: 15000, what: `nginx on port ${port}` }),
    died,
  ]);
  up = true;
  // both workers up: a request to a worker that is still starting is fine,
  // but tests counting worker log lines want them all
  await waitFor(() => (errorLog().match(/start worker process \d+/g) || [])
    .length >= 2, { timeout: 10000, what: 'nginx workers' });

  const n = {
    port,
    url: `http://127.0.0.1:${port}`,
    prefix: prep.prefix,
    runDir: prep.runDir,
    proc,
    errorLog,
    async stop() {
      if (exited) return;
      proc.kill('SIGQUIT');
      const done = await Promise.race([proc.exited.then(() => true),
        sleep(8000).then(() => false)]);
      if (!done) {
        proc.kill('SIGKILL');
        await proc.exited;
      }
    },
    // SIGHUP, then waits for the new generation of workers to start.
    async reload() {
      const before = (errorLog().match(/start worker processes/g) || [])
        .length;
      proc.kill('SIGHUP');
      await waitFor(() => (errorLog().match(/start worker processes/g) || [])
        .length > before, { timeout: 10000, what: 'nginx reload' });
    },
  };
  return n;
}
