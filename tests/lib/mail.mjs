// mail.mjs - what the delivery suites (tests/integration/alert/) share:
// the C driver tests/drivers/mail_send.c (es_mime_build + es_smtp_send,
// es_webhook_post, as the alert worker calls them), a self-signed
// certificate made at test time with the openssl command line tool, and
// a loopback TCP listener that records every connection made to it.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BUILD, ROOT, tmpDir } from './harness.mjs';

const run = promisify(execFile);

// path of build/drivers/mail_send, built (make is a no-op when up to date)
export async function mailDriver() {
  const target = path.join(BUILD, 'drivers', 'mail_send');
  const rel = path.relative(ROOT, BUILD);
  const how = rel === path.join('build', 'asan') ? 'SANITIZE=1' : `BUILD=${BUILD}`;
  await run('make', ['--no-print-directory', '-s', how, target],
            { cwd: ROOT, maxBuffer: 16 << 20 });
  if (!existsSync(target)) throw new Error(`${target} was not built`);
  return target;
}

// runs the driver; resolves {code, json (parsed last stdout line), stdout,
// stderr, ms}. Secrets go in env, never in args.
export async function runDriver(cmd, args, env = {}) {
  const exe = await mailDriver();
  const t0 = Date.now();
  let r;
  try {
    r = await run(exe, [cmd, ...args], {
      env: { PATH: process.env.PATH, ...env }, maxBuffer: 16 << 20,
      timeout: 60000,
    });
    r.code = 0;
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    r = e;
  }
  const lines = String(r.stdout).split('\n').filter((l) => l !== '');
  let json = null;
  try { json = JSON.parse(lines[lines.length - 1]); } catch { /* raw */ }
  return { code: r.code, json, stdout: String(r.stdout),
           stderr: String(r.stderr), ms: Date.now() - t0 };
}

// a self-signed certificate (its own CA) for the given names and IPs;
// resolves {dir, key, cert, keyPem, certPem}
export async function selfSignedCert({ cn = 'localhost', dns = ['localhost'],
                                        ips = ['127.0.0.1', '::1'] } = {}) {
  const dir = await tmpDir('es-cert-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const san = [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
                        'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
                        '-out', cert, '-days', '2', '-subj', `/CN=${cn}`,
                        '-addext', `subjectAltName=${san}`]);
  return { dir, key, cert, keyPem: readFileSync(key), certPem: readFileSync(cert) };
}

// the first IPv4 address of this machine outside 127.0.0.0/8, or null
export function nonLoopbackIPv4() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list || []) {
      if (a.family === 'IPv4' || a.family === 4) {
        if (!a.internal && !a.address.startsWith('127.')) return a.address;
      }
    }
  }
  return null;
}

// a listener on 127.0.0.1 (and ::1 on the same port when the machine has
// it) that records and drops every connection: what must never be
// contacted. Resolves {port, hits: [{family, at}], close()}.
export async function connectionRecorder() {
  const hits = [];
  const servers = [];
  const onConn = (family) => (sock) => {
    hits.push({ family, at: Date.now() });
    sock.destroy();
  };
  const v4 = net.createServer(onConn('IPv4'));
  await new Promise((res, rej) => {
    v4.once('error', rej);
    v4.listen(0, '127.0.0.1', res);
  });
  servers.push(v4);
  const { port } = v4.address();
  const v6 = net.createServer(onConn('IPv6'));
  const has6 = await new Promise((res) => {
    v6.once('error', () => res(false));
    v6.listen(port, '::1', () => res(true));
  });
  if (has6) servers.push(v6);
  return {
    port,
    ipv6: has6,
    hits,
    close: () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))),
  };
}
