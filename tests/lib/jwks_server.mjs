// jwks_server.mjs - an identity provider's JWKS endpoint for tests, over
// HTTP or HTTPS, that can be told to misbehave.
//
// It speaks HTTP/1.1 by hand on a raw socket (net / tls) rather than
// through node:http, so a test controls exactly how a response is framed
// (Content-Length, chunked, or ended by closing the connection), can hang
// a request forever and release it later, or drop the connection without
// a word. Every request is recorded (method, path, headers) and counted
// per path, so tests can assert how often the module fetched.
//
// Certificates for HTTPS are made at test time with the openssl command
// line: a test CA, a server certificate it signs for "localhost" only, and
// an unrelated second CA (see makeCerts). RSA signing keys and their
// public JWKs come from node:crypto (see makeSigningKey).

import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

import { freePort, tmpDir } from './harness.mjs';

const REASONS = {
  200: 'OK', 301: 'Moved Permanently', 302: 'Found', 404: 'Not Found',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

// A new RSA-2048 key pair named kid: {kid, privateKey (KeyObject), jwk
// (the public JWK as a JWKS lists it)}.
export function makeSigningKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa',
    { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { kid, privateKey,
           jwk: { kty: 'RSA', e, n, use: 'sig', kid, alg: 'RS256' } };
}

// The JWKS document of some keys (from makeSigningKey), as text.
export function jwksText(keys, extra = {}) {
  return JSON.stringify({ keys: keys.map((k) => k.jwk), ...extra });
}

function openssl(dir, args) {
  execFileSync('openssl', args,
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

// Makes, in a new temporary directory, a test CA (ca.pem), a server
// certificate it signs for the DNS names `names` only (default
// "localhost"; server.pem, server.key) and a second, unrelated CA
// (other-ca.pem). Returns the absolute paths {dir, ca, otherCa, cert, key}.
export async function makeCerts({ names = ['localhost'] } = {}) {
  const dir = await tmpDir('es-jwks-certs-');
  const days = '2';
  for (const [name, cn] of [['ca', 'EchoStream Test CA'],
                            ['other-ca', 'Unrelated Test CA']]) {
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', days,
      '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout',
    'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`]);
  writeFileSync(path.join(dir, 'server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
  ].join('\n') + '\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem',
    '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days',
    days, '-extfile', 'server.ext']);
  const p = (f) => path.join(dir, f);
  return { dir, ca: p('ca.pem'), otherCa: p('other-ca.pem'),
           cert: p('server.pem'), key: p('server.key') };
}

// Frames and writes one response, then closes the connection.
function respond(sock, spec) {
  if (sock.destroyed) return;
  if (spec.drop) {
    sock.destroy();
    return;
  }
  const status = spec.status ?? 200;
  const body = Buffer.isBuffer(spec.body) ? spec.body
    : Buffer.from(spec.body ?? '', 'utf8');
  const mode = spec.mode ?? 'length';
  const head = [`HTTP/1.1 ${status} ${REASONS[status] || 'Whatever'}`,
                'Content-Type: application/json', 'Connection: close'];
  if (mode === 'length') head.push(`Content-Length: ${body.length}`);
  if (mode === 'chunked') head.push('Transfer-Encoding: chunked');
  for (const [k, v] of Object.entries(spec.headers || {})) {
    head.push(`${k}: ${v}`);
  }
  const parts = [Buffer.from(`${head.join('\r\n')}\r\n\r\n`)];
  if (mode === 'chunked') {
    // uneven chunks, one with an extension, and a trailer: the whole
    // grammar, not just the easy path
    const size = spec.chunkSize ?? 700;
    for (let i = 0, n = 0; i < body.length; i += size, n++) {
      const c = body.subarray(i, i + size);
      const ext = n === 1 ? ';name=value' : '';
      parts.push(Buffer.from(`${c.length.toString(16)}${ext}\r\n`), c,
                 Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\nX-Trailer: done\r\n\r\n'));
  } else {
    parts.push(body);
  }
  sock.end(Buffer.concat(parts));
}

// Starts the server on port (default: a free loopback port). With certs
// (from makeCerts) it speaks HTTPS. Routes are set per path with
// route(path, spec), where spec is {status=200, body (string | Buffer),
// mode ('length' | 'chunked' | 'eof'), headers, delayMs, hang, drop}; hang
// keeps the request open until release(); drop closes the connection
// without an answer. Paths without a route get 404. Returns {port, origin,
// requests, route(), hits(path), hangingCount(path), release(spec?),
// close()}.
export async function startJwksServer({ certs, port: wanted,
                                        host = '127.0.0.1' } = {}) {
  const routes = new Map();
  const hits = new Map();
  const requests = [];
  const hanging = [];
  const sockets = new Set();

  const onConnection = (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 65536) sock.destroy();
        return;
      }
      sock.off('data', onData);
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const [method, target] = lines[0].split(' ');
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) {
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
      }
      const p = (target || '').split('?')[0];
      requests.push({ method, target, path: p, headers, line: lines[0] });
      hits.set(p, (hits.get(p) || 0) + 1);
      const spec = routes.get(p) || { status: 404, body: '{}' };
      if (spec.hang) {
        hanging.push({ sock, path: p });
      } else if (spec.delayMs) {
        setTimeout(() => respond(sock, spec), spec.delayMs);
      } else {
        respond(sock, spec);
      }
    };
    sock.on('data', onData);
  };

  const server = certs
    ? tls.createServer({ key: readFileSync(certs.key),
                         cert: readFileSync(certs.cert) })
    : net.createServer();
  server.on(certs ? 'secureConnection' : 'connection', onConnection);
  // handshakes refused by the client end up here: not the test's concern
  server.on('tlsClientError', () => {});

  const port = wanted || await freePort();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });

  const s = {
    port,
    origin: `${certs ? 'https' : 'http'}://${host}:${port}`,
    requests,
    route(p, spec) { routes.set(p, spec); },
    hits(p) { return hits.get(p) || 0; },
    // requests held by a hang route and not yet released
    hangingCount(p) {
      return hanging.filter((h) => h.path === p && !h.sock.destroyed).length;
    },
    // answers every hanging request with spec (default: its route now)
    release(spec) {
      for (const h of hanging.splice(0)) {
        respond(h.sock, spec || routes.get(h.path) || { status: 404 });
      }
    },
    close() {
      for (const h of hanging.splice(0)) h.sock.destroy();
      for (const sock of sockets) sock.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return s;
}
