// harness.mjs - shared helpers for EchoStream's black-box tests.
//
// Tests start the real programs (redis-server, nginx, the worker binaries)
// on loopback in temporary directories and talk to them over RESP and HTTP.
// Every process started here is killed when the test process exits, so a
// failing test never leaves servers behind to break the next one.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A worker started without --config reads /etc/echostream/echostream.conf
// when it exists; the tests' workers get only the configuration a test
// gives them (an empty ECHOSTREAM_CONFIG: no default file), whatever is
// installed on the machine. Every child inherits it, however started.
if (process.env.ECHOSTREAM_CONFIG === undefined) {
  process.env.ECHOSTREAM_CONFIG = '';
}

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
                                 '..', '..');
export const BUILD = process.env.ES_BUILD_DIR
  ? path.resolve(process.env.ES_BUILD_DIR) : path.join(ROOT, 'build');

export function bin(name) {
  const p = path.join(BUILD, 'bin', `echostream-${name}`);
  if (!existsSync(p)) throw new Error(`${p} is missing: run make first`);
  return p;
}

const tmpDirs = [];
const procs = new Set();

function cleanupAll() {
  for (const p of procs) {
    try { p.child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  if (!process.env.ES_KEEP_TMP) {
    for (const d of tmpDirs) {
      try { rmSync(d, { recursive: true, force: true }); } catch { /* */ }
    }
  }
}
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { cleanupAll(); process.exit(130); });
}

export async function tmpDir(prefix = 'es-test-') {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(fn, { timeout = 10000, interval = 50,
                                    what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { lastErr = e; }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` +
                      (lastErr ? `: ${lastErr.message}` : ''));
    }
    await sleep(interval);
  }
}

// startProc runs a program with its output captured; the output is also
// copied to stderr when ES_TEST_VERBOSE is set, for debugging a failure.
export function startProc(cmd, args = [], opts = {}) {
  const child = spawn(cmd, args, {
    cwd: opts.cwd || ROOT,
    env: { ...process.env, ...(opts.env || {}) },
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const name = opts.name || path.basename(cmd);
  let out = '';
  let so = '';
  let se = '';
  const onData = (which) => (d) => {
    const s = d.toString();
    out += s;
    if (which === 1) so += s; else se += s;
    if (process.env.ES_TEST_VERBOSE) process.stderr.write(`[${name}] ${s}`);
  };
  child.stdout.on('data', onData(1));
  child.stderr.on('data', onData(2));
  const p = {
    child,
    name,
    pid: child.pid,
    output: () => out,
    stdout: () => so,
    stderr: () => se,
    exited: null,
    kill(sig = 'SIGTERM') {
      try { child.kill(sig); } catch { /* gone */ }
    },
    async waitForOutput(re, ms = 10000) {
      return waitFor(() => re.test(out), { timeout: ms,
        what: `${name} output matching ${re}` });
    },
  };
  // 'exit' can come before the last output is read from the pipes, so a
  // test reading output() right after exited would miss the end of it:
  // wait for the pipes to close too, but not for long, since a process's
  // children (nginx's workers) may hold them after it is gone
  let closed = false;
  child.once('close', () => { closed = true; });
  p.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      procs.delete(p);
      const done = () => resolve({ code, signal });
      if (closed) return done();
      const t = setTimeout(done, 1000);
      child.once('close', () => { clearTimeout(t); done(); });
      return undefined;
    });
  });
  procs.add(p);
  return p;
}

// --- a minimal RESP2 client: enough for tests, no dependencies ---

class RespParser {
  // binary: bulk strings as Buffers (bitmaps), else as UTF-8 text
  constructor(binary = false) { this.buf = Buffer.alloc(0); this.binary = binary; }
  push(b) { this.buf = Buffer.concat([this.buf, b]); }
  // returns {value} or undefined when incomplete
  parse() {
    const r = this._parse(0);
    if (!r) return undefined;
    this.buf = this.buf.subarray(r.next);
    return { value: r.value };
  }
  _line(pos) {
    const i = this.buf.indexOf('\r\n', pos);
    return i < 0 ? null : { s: this.buf.toString('utf8', pos + 1, i), next: i + 2 };
  }
  _parse(pos) {
    if (pos >= this.buf.length) return null;
    const t = String.fromCharCode(this.buf[pos]);
    const l = this._line(pos);
    if (!l) return null;
    switch (t) {
      case '+': return { value: l.s, next: l.next };
      case '-': { const e = new Error(l.s); e.redis = true;
                  return { value: e, next: l.next }; }
      case ':': return { value: Number(l.s), next: l.next };
      case '$': {
        const n = Number(l.s);
        if (n < 0) return { value: null, next: l.next };
        if (this.buf.length < l.next + n + 2) return null;
        return { value: this.binary
          ? Buffer.from(this.buf.subarray(l.next, l.next + n))
          : this.buf.toString('utf8', l.next, l.next + n),
                 next: l.next + n + 2 };
      }
      case '*': {
        const n = Number(l.s);
        if (n < 0) return { value: null, next: l.next };
        const arr = [];
        let p = l.next;
        for (let i = 0; i < n; i++) {
          const r = this._parse(p);
          if (!r) return null;
          arr.push(r.value);
          p = r.next;
        }
        return { value: arr, next: p };
      }
      default: throw new Error(`bad RESP type ${t}`);
    }
  }
}

function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(`$${b.length}\r\n`, b, '\r\n');
  }
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

export class RedisClient {
  // { binary: true } answers bulk strings as Buffers
  constructor(port, host = '127.0.0.1', { binary = false } = {}) {
    this.port = port; this.host = host; this.binary = binary;
  }
  async connect() {
    this.sock = net.createConnection(this.port, this.host);
    this.parser = new RespParser(this.binary);
    this.queue = [];
    this.sock.on('data', (d) => {
      this.parser.push(d);
      for (;;) {
        const r = this.parser.parse();
        if (!r) break;
        const q = this.queue.shift();
        if (!q) continue;
        if (r.value instanceof Error) q.reject(r.value); else q.resolve(r.value);
      }
    });
    const failAll = (e) => {
      const qs = this.queue; this.queue = [];
      for (const q of qs) q.reject(e || new Error('connection closed'));
      this.sock = null;
    };
    this.sock.on('error', failAll);
    this.sock.on('close', () => failAll());
    await new Promise((res, rej) => {
      this.sock.once('connect', res);
      this.sock.once('error', rej);
    });
  }
  async cmd(...args) {
    if (!this.sock) await this.connect();
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.sock.write(encode(args));
    });
  }
  close() { if (this.sock) { this.sock.end(); this.sock = null; } }
}

// host and port pick the address (another loopback address such as
// 127.0.0.2 with the port of a first Redis: two servers one DNS name can
// point at in turn); conf adds lines to redis.conf (replicaof, ...).
export async function startRedis({ dir, host = '127.0.0.1', port,
                                   conf: extra = [] } = {}) {
  const d = dir || await tmpDir('es-redis-');
  if (port === undefined) port = await freePort();
  const conf = path.join(d, 'redis.conf');
  writeFileSync(conf, [
    `port ${port}`, `bind ${host}`, `dir ${d}`, 'appendonly yes',
    'appendfsync everysec', 'save ""', 'daemonize no', 'loglevel warning',
    `logfile ${path.join(d, 'redis.log')}`, ...extra,
  ].join('\n') + '\n');
  const r = {
    port, host, dir: d, url: `redis://${host}:${port}/0`, proc: null,
    client: new RedisClient(port, host),
    async start() {
      r.proc = startProc('redis-server', [conf], { name: 'redis' });
      await waitFor(async () => {
        const c = new RedisClient(port, host);
        try { return (await c.cmd('PING')) === 'PONG'; }
        finally { c.close(); }
      }, { timeout: 10000, what: `redis on ${host}:${port}` });
      r.client = new RedisClient(port, host);
    },
    cmd: (...args) => r.client.cmd(...args),
    async stop() {
      if (!r.proc) return;
      r.client.close();
      r.proc.kill('SIGTERM');
      await r.proc.exited;
      r.proc = null;
    },
    async kill9() {
      if (!r.proc) return;
      r.client.close();
      r.proc.kill('SIGKILL');
      await r.proc.exited;
      r.proc = null;
    },
    async restart() { await r.stop(); await r.start(); },
    async close() { await r.stop(); },
  };
  await r.start();
  return r;
}

export function httpRequest({ method = 'GET', url, headers = {}, body,
                              timeout = 10000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode,
        headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
