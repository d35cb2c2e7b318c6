// sigv4.mjs - server-side SigV4 verification for EchoStream's AWS test
// doubles.
//
// A double must not trust its own reading of the signing rules: it would
// agree with a client that shares its mistakes. So the received request is
// signed again with AWS's own signer (@smithy/signature-v4, the one inside
// every AWS SDK for JavaScript) using the known secret, the request's own
// x-amz-date and exactly the headers the client listed in SignedHeaders, and
// the two signatures are compared. Service and region come from the
// credential scope of the Authorization header; a double passes the ones it
// serves so a request signed for another service or region is refused.
//
//   import { verifySigV4 } from '../aws/sigv4.mjs';
//   const v = await verifySigV4(req, bodyBuffer, keys, { service: 'sqs',
//                                                       region: 'us-east-1' });
//   if (!v.ok) reply 403 with v.reason (v.code is an AWS-style error code)
//
// keys: one {accessKeyId, secretAccessKey, sessionToken?} or an array of
// them. A key given with a sessionToken only accepts requests carrying that
// token (signed); a key without one refuses requests that carry a token.

import crypto from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MAX_SKEW_MS = 15 * 60 * 1000; // AWS refuses requests older than this

function fail(code, reason) {
  return { ok: false, code, reason };
}

// Header values as received, duplicates joined with ',' (SigV4's rule),
// keyed by lower-case name.
function headerValues(req) {
  const out = {};
  const raw = req.rawHeaders || [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    out[name] = name in out ? `${out[name]},${raw[i + 1]}` : raw[i + 1];
  }
  return out;
}

// The query of a request target as smithy's HttpRequest holds it: decoded
// keys and values, repeated keys as arrays.
function parseQuery(qs) {
  const query = {};
  if (!qs) return query;
  for (const part of qs.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (k in query) {
      query[k] = Array.isArray(query[k]) ? [...query[k], v] : [query[k], v];
    } else {
      query[k] = v;
    }
  }
  return query;
}

function safeEqualHex(a, b) {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && crypto.timingSafeEqual(ba, bb);
}

export async function verifySigV4(req, body, keys, opts = {}) {
  const list = Array.isArray(keys) ? keys : [keys];
  const headers = headerValues(req);
  const auth = headers.authorization;
  if (!auth) return fail('MissingAuthenticationToken', 'missing Authorization header');
  const m = AUTH_RE.exec(auth.trim());
  if (!m) return fail('IncompleteSignature', 'malformed Authorization header');
  const [, keyId, scopeDate, region, service, signedList, signature] = m;

  const key = list.find((k) => k.accessKeyId === keyId);
  if (!key) return fail('UnrecognizedClientException', `unknown access key ${keyId}`);
  if (opts.service && service !== opts.service) {
    return fail('InvalidSignatureException', `credential scope service ${service}, expected ${opts.service}`);
  }
  if (opts.region && region !== opts.region) {
    return fail('InvalidSignatureException', `credential scope region ${region}, expected ${opts.region}`);
  }

  // curl sends a caller-set X-Amz-Date twice; the first one is the one used
  const amzDate = (headers['x-amz-date'] || '').split(',')[0].trim();
  const dm = DATE_RE.exec(amzDate);
  if (!dm) return fail('IncompleteSignature', 'missing or malformed x-amz-date');
  if (amzDate.slice(0, 8) !== scopeDate) {
    return fail('InvalidSignatureException', 'credential scope date differs from x-amz-date');
  }
  const signingDate = new Date(Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]));
  const now = opts.now ?? Date.now();
  if (!opts.ignoreSkew && Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) {
    return fail('InvalidSignatureException', 'signature expired: x-amz-date too far from now');
  }

  const signed = signedList.split(';');
  if (!signed.includes('host')) return fail('InvalidSignatureException', 'host is not signed');
  if (!signed.includes('x-amz-date')) return fail('InvalidSignatureException', 'x-amz-date is not signed');
  const token = headers['x-amz-security-token'];
  if (key.sessionToken) {
    if (!token) return fail('MissingAuthenticationToken', 'missing x-amz-security-token');
    if (token !== key.sessionToken) return fail('UnrecognizedClientException', 'invalid security token');
    if (!signed.includes('x-amz-security-token')) {
      return fail('InvalidSignatureException', 'x-amz-security-token is not signed');
    }
  } else if (token) {
    return fail('UnrecognizedClientException', 'unexpected security token for a long-term key');
  }

  const buf = body == null ? Buffer.alloc(0) : Buffer.from(body);
  const sha = headers['x-amz-content-sha256'];
  if (sha && sha !== 'UNSIGNED-PAYLOAD' && !sha.startsWith('STREAMING-')) {
    const actual = crypto.createHash('sha256').update(buf).digest('hex');
    if (sha !== actual) return fail('XAmzContentSHA256Mismatch', 'x-amz-content-sha256 does not match the body');
  }

  // the request as smithy sees it, holding only the signed headers;
  // the signer adds x-amz-date (and the token) itself
  const toSign = {};
  for (const name of signed) {
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    if (!(name in headers)) return fail('InvalidSignatureException', `signed header ${name} is missing`);
    toSign[name] = headers[name];
  }
  const target = req.url || '/';
  const qi = target.indexOf('?');
  const path = qi < 0 ? target : target.slice(0, qi);
  const query = parseQuery(qi < 0 ? '' : target.slice(qi + 1));
  const hostHeader = headers.host || '';
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey,
                   sessionToken: key.sessionToken },
    region,
    service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: service !== 's3',
  });
  let resigned;
  try {
    resigned = await signer.sign({
      method: req.method,
      protocol: 'http:',
      hostname: hostHeader.replace(/:\d+$/, ''),
      path,
      query,
      headers: toSign,
      body: buf,
    }, {
      signingDate,
      signingRegion: region,
      signingService: service,
      signableHeaders: new Set(signed),
    });
  } catch (e) {
    return fail('InvalidSignatureException', `cannot re-sign: ${e.message}`);
  }
  const rm = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})/.exec(resigned.headers.authorization);
  if (!rm) return fail('InvalidSignatureException', 'signer produced no signature');
  if (rm[1] !== signedList) {
    return fail('InvalidSignatureException', `signed headers differ: ${signedList} vs ${rm[1]}`);
  }
  if (!safeEqualHex(rm[2], signature)) {
    return fail('InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided.');
  }
  return { ok: true, accessKeyId: keyId, region, service, signedHeaders: signed };
}
