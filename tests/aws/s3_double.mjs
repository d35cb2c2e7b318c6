// s3_double.mjs - an Amazon S3 test double on loopback.
//
// Enough of S3's REST API for EchoStream's archive upload and for the real
// @aws-sdk/client-s3 to read back what was uploaded: PutObject, GetObject,
// HeadObject, ListObjectsV2 and CreateBucket, both addressing styles
// (path-style /<bucket>/<key>, or virtual-hosted: a Host header
// <bucket>.<suffix> where suffix is one of opts.hostSuffixes, by default
// "localhost" and "s3.<region>.amazonaws.com"). Objects live in memory.
//
// Every request's SigV4 signature is verified with AWS's own signer
// (sigv4.mjs, with S3's rule of no second path escaping), and like S3 it
// demands x-amz-content-sha256: present, signed, and equal to the SHA-256 of
// the body received (or UNSIGNED-PAYLOAD). Errors are S3's XML documents
// (<Error><Code>…</Code><Message>…</Message>…): SignatureDoesNotMatch 403,
// XAmzContentSHA256Mismatch 400, NoSuchBucket/NoSuchKey 404 (HEAD: no body).
// s3rver does not check signatures at all, which is why this exists.
//
// Faults for tests: failNext(n, kind) makes the next n requests answer 500
// InternalError ('500'), 503 SlowDown ('slowdown') or hang ('hang').
// Every request is logged in double.requests.
//
// Use: const s3 = await startS3Double({ accessKeyId, secretAccessKey,
// buckets: ['lake'] }); or standalone:
//   node tests/aws/s3_double.mjs --port 9000 --key K --secret S --bucket B

import crypto from 'node:crypto';
import http from 'node:http';
import { verifySigV4 } from './sigv4.mjs';
import { isMain, serveUntilSignal, standaloneOptions } from './standalone.mjs';

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

class S3Error extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

const FAULTS = {
  500: () => new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'),
  slowdown: () => new S3Error(503, 'SlowDown', 'Please reduce your request rate.'),
};

const xmlEscape = (s) => String(s).replace(/[<>&'"]/g, (c) => ({
  '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]));

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

export async function startS3Double(opts = {}) {
  const keys = opts.keys || [{ accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey,
                               sessionToken: opts.sessionToken }];
  const region = opts.region || 'us-east-1';
  const suffixes = opts.hostSuffixes || ['localhost', `s3.${region}.amazonaws.com`];
  const buckets = new Map(); // name -> Map(key -> object)
  const faults = [];
  const hanging = new Set();
  const requests = [];
  let badSignatures = 0;
  let badHashes = 0;

  const createBucket = (name) => {
    if (!buckets.has(name)) buckets.set(name, new Map());
  };
  for (const b of opts.buckets || []) createBucket(b);

  // { bucket, key, virtualHost } from the Host header and the raw path
  function route(req) {
    const host = String(req.headers.host || '').replace(/:\d+$/, '').toLowerCase();
    const target = req.url || '/';
    const qi = target.indexOf('?');
    const rawPath = qi < 0 ? target : target.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : target.slice(qi + 1));
    const decode = (p) => p.split('/').map((seg) => decodeURIComponent(seg)).join('/');
    for (const sfx of suffixes) {
      if (host.endsWith(`.${sfx}`)) {
        const bucket = host.slice(0, -(sfx.length + 1));
        return { bucket, key: decode(rawPath.slice(1)), query, virtualHost: true };
      }
    }
    const rest = rawPath.slice(1);
    const slash = rest.indexOf('/');
    const bucket = decode(slash < 0 ? rest : rest.slice(0, slash));
    const key = slash < 0 ? '' : decode(rest.slice(slash + 1));
    return { bucket, key, query, virtualHost: false };
  }

  function sendXml(res, status, xml, headers = {}) {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': crypto.randomBytes(8).toString('hex').toUpperCase(),
      ...headers,
    });
    res.end(body);
  }
  function sendError(res, err, method) {
    if (method === 'HEAD') {
      res.writeHead(err.status, { 'x-amz-request-id': 'HEAD', 'x-amz-error-code': err.code });
      res.end();
      return;
    }
    const extra = Object.entries(err.extra).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
    sendXml(res, err.status, `<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}` +
      `</Message>${extra}<RequestId>${crypto.randomBytes(8).toString('hex').toUpperCase()}` +
      '</RequestId><HostId>double</HostId></Error>');
  }

  function objectHeaders(o) {
    return {
      'content-type': o.contentType,
      'content-length': o.body.length,
      etag: o.etag,
      'last-modified': o.lastModified.toUTCString(),
      'x-amz-request-id': crypto.randomBytes(8).toString('hex').toUpperCase(),
    };
  }

  function bucketOf(name) {
    const b = buckets.get(name);
    if (!b) {
      throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
    }
    return b;
  }

  function listV2(res, bucket, q) {
    const b = bucketOf(bucket);
    const prefix = q.get('prefix') || '';
    const max = Math.min(Number(q.get('max-keys') || 1000), 1000);
    const after = q.get('continuation-token')
      ? Buffer.from(q.get('continuation-token'), 'base64url').toString('utf8')
      : (q.get('start-after') || '');
    const all = [...b.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = all.slice(0, max);
    const truncated = all.length > page.length;
    const contents = page.map((k) => {
      const o = b.get(k);
      return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}` +
        `</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size>` +
        '<StorageClass>STANDARD</StorageClass></Contents>';
    }).join('');
    const next = truncated
      ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]).toString('base64url')}` +
        '</NextContinuationToken>'
      : '';
    sendXml(res, 200, '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
      `<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>` +
      `<IsTruncated>${truncated}</IsTruncated>${next}${contents}</ListBucketResult>`);
  }

  async function handle(req, res, body) {
    const r = route(req);
    const entry = { time: Date.now(), method: req.method, bucket: r.bucket, key: r.key,
                    virtualHost: r.virtualHost, status: 0, signature: null, bytes: body.length,
                    sha256: req.headers['x-amz-content-sha256'] || null,
                    token: req.headers['x-amz-security-token'] ? 'yes' : 'no',
                    contentType: req.headers['content-type'] || null, error: null };
    requests.push(entry);
    const fail = (err) => {
      entry.status = err.status;
      entry.error = err.code;
      sendError(res, err, req.method);
    };
    const v = await verifySigV4(req, body, keys, { service: 's3', region });
    entry.signature = v.ok ? 'ok' : v.reason;
    if (!v.ok) {
      if (v.code === 'XAmzContentSHA256Mismatch') {
        badHashes++;
        return fail(new S3Error(400, 'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: entry.sha256 || '', S3ComputedContentSHA256: sha256(body) }));
      }
      badSignatures++;
      if (v.code === 'UnrecognizedClientException') {
        return fail(new S3Error(403, 'InvalidAccessKeyId',
          'The AWS Access Key Id you provided does not exist in our records.'));
      }
      if (v.code === 'MissingAuthenticationToken') {
        return fail(new S3Error(403, 'AccessDenied', v.reason));
      }
      return fail(new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated ' +
        'does not match the signature you provided. Check your key and signing method.'));
    }
    if (!entry.sha256) {
      badHashes++;
      return fail(new S3Error(400, 'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256'));
    }
    if (!v.signedHeaders.includes('x-amz-content-sha256')) {
      badSignatures++;
      return fail(new S3Error(403, 'SignatureDoesNotMatch',
        'x-amz-content-sha256 must be a signed header'));
    }
    if (faults.length) {
      const kind = faults.shift();
      entry.error = `fault:${kind}`;
      if (kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return undefined;
      }
      return fail(FAULTS[kind]());
    }
    try {
      if (!r.bucket) throw new S3Error(400, 'InvalidRequest', 'ListBuckets is not supported here');
      if (req.method === 'PUT' && r.key === '') {
        if (!BUCKET_RE.test(r.bucket)) {
          throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.',
            { BucketName: r.bucket });
        }
        createBucket(r.bucket);
        entry.status = 200;
        res.writeHead(200, { location: `/${r.bucket}`, 'content-length': 0 });
        return res.end();
      }
      if (req.method === 'GET' && r.key === '' && r.query.get('list-type') === '2') {
        entry.status = 200;
        return listV2(res, r.bucket, r.query);
      }
      const b = bucketOf(r.bucket);
      if (r.key === '') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed.');
      if (req.method === 'PUT') {
        const o = { body: Buffer.from(body), contentType: req.headers['content-type'] ||
                    'binary/octet-stream', etag: `"${crypto.createHash('md5').update(body).digest('hex')}"`,
                    lastModified: new Date(Math.floor(Date.now() / 1000) * 1000) };
        b.set(r.key, o);
        entry.status = 200;
        res.writeHead(200, { etag: o.etag, 'content-length': 0,
                             'x-amz-request-id': crypto.randomBytes(8).toString('hex') });
        return res.end();
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        const o = b.get(r.key);
        if (!o) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: r.key });
        entry.status = 200;
        res.writeHead(200, objectHeaders(o));
        return res.end(req.method === 'GET' ? o.body : undefined);
      }
      throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed.');
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
      return fail(e);
    }
  }

  let stopped = false;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent) sendError(res, new S3Error(500, 'InternalError', String(e)), req.method);
      });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port || 0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    region,
    requests,
    createBucket,
    get badSignatures() { return badSignatures; },
    get badHashes() { return badHashes; },
    // the object's bytes (a Buffer), or undefined
    object: (bucket, key) => buckets.get(bucket)?.get(key)?.body,
    keys: (bucket) => [...(buckets.get(bucket)?.keys() || [])].sort(),
    // the next n requests fail: '500' | 'slowdown' | 'hang'
    failNext(n, kind) {
      if (kind !== 'hang' && !FAULTS[kind]) throw new Error(`unknown fault ${kind}`);
      for (let i = 0; i < n; i++) faults.push(kind);
    },
    pendingFaults: () => faults.length,
    clearFaults() { faults.length = 0; },
    releaseHangs() {
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    async stop() {
      stopped = true;
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
    get stopped() { return stopped; },
  };
}

// standalone: node tests/aws/s3_double.mjs --port P --key K --secret S
// [--token T] [--region R] [--bucket B]...
if (isMain(import.meta.url)) {
  const { common, many } = standaloneOptions('bucket');
  const d = await startS3Double({
    ...common, buckets: many.length ? many : ['echostream'],
  });
  serveUntilSignal(d, `s3 double listening on ${d.endpoint}`);
}
