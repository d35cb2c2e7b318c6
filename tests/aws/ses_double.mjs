// ses_double.mjs - an Amazon SES v2 (SendEmail) test double on loopback.
//
// It speaks the REST-JSON protocol the way @aws-sdk/client-sesv2 3.899.0
// uses it: POST /v2/email/outbound-emails, content-type application/json,
// signing name "ses", body {"FromEmailAddress","Destination":{"ToAddresses",
// "CcAddresses","BccAddresses"},"Content":{"Raw":{"Data":<base64>}}} (or
// Simple), answered {"MessageId": …}. Every request's SigV4 signature is
// verified with AWS's own signer (sigv4.mjs): a bad one gets 403
// InvalidSignatureException. Errors have the real shape: the code in the
// x-amzn-ErrorType header, the body {"message": …}.
//
// Raw messages are kept base64-decoded in double.messages ({from, to,
// raw, messageId}), so a test reads the very MIME bytes EchoStream built.
// With opts.verified (addresses or domains), a sender outside it is
// refused as SES's sandbox does (400 MessageRejected "Email address is not
// verified…").
//
// Faults for tests: failNext(n, kind) makes the next n requests fail:
// 'throttle' (429 TooManyRequestsException), 'limit' (400
// LimitExceededException, the sending quota), 'rejected' (400
// MessageRejected), 'paused' (400 SendingPausedException), '500'
// (InternalFailure), '503' (ServiceUnavailable), 'hang'; 'ok' answers.
//
// Use: const ses = await startSesDouble({ accessKeyId, secretAccessKey });
// or standalone:
//   node tests/aws/ses_double.mjs --port 9331 --key K --secret S [--token T]
//   [--region R] [--verified ADDRESS_OR_DOMAIN]...

import crypto from 'node:crypto';
import http from 'node:http';
import { verifySigV4 } from './sigv4.mjs';
import { isMain, serveUntilSignal, standaloneOptions } from './standalone.mjs';

export const SEND_PATH = '/v2/email/outbound-emails';
export const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
const NS = 'http://internal.amazon.com/coral/com.amazonaws.sesv2/';
const CORAL_NS = 'http://internal.amazon.com/coral/com.amazon.coral.service/';
const MAX_RECIPIENTS = 50;

class SesError extends Error {
  constructor(status, code, message, ns = NS) {
    super(message);
    this.status = status;
    this.code = code;
    this.ns = ns;
  }
}

const FAULTS = {
  throttle: () => new SesError(429, 'TooManyRequestsException', 'Too many requests.'),
  limit: () => new SesError(400, 'LimitExceededException', 'Maximum sending rate exceeded.'),
  rejected: () => new SesError(400, 'MessageRejected', 'Email address is not verified.'),
  paused: () => new SesError(400, 'SendingPausedException',
    'Sending is paused for this account.'),
  500: () => new SesError(500, 'InternalFailure',
    'The request processing has failed because of an unknown error, exception or failure.',
    CORAL_NS),
  503: () => new SesError(503, 'ServiceUnavailable', 'Service is unable to handle request.',
    CORAL_NS),
};

const bad = (message) => new SesError(400, 'BadRequestException', message);

// the address of "Name <addr>" or of a bare address
export function addressOf(s) {
  const m = /<([^<>]+)>\s*$/.exec(String(s));
  return (m ? m[1] : String(s)).trim();
}

// SES's message id shape: 0100 + time + uuid + "-000000"
function messageId() {
  return `0100${Date.now().toString(16).padStart(12, '0')}-${crypto.randomUUID()}-000000`;
}

export async function startSesDouble(opts = {}) {
  const keys = opts.keys || [{ accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey,
                               sessionToken: opts.sessionToken }];
  const region = opts.region || 'us-east-1';
  const verified = opts.verified && opts.verified.length
    ? opts.verified.map((v) => v.toLowerCase()) : null;
  const faults = [];
  const hanging = new Set();
  const requests = [];
  const messages = [];
  let badSignatures = 0;
  let stopped = false;

  function send(res, status, obj, extra = {}) {
    const body = JSON.stringify(obj);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': crypto.randomUUID(),
      ...extra,
    });
    res.end(body);
  }
  function sendError(res, err) {
    send(res, err.status, { message: err.message },
      { 'x-amzn-errortype': `${err.code}:${err.ns}` });
  }

  function isVerified(addr) {
    if (!verified) return true;
    const a = addr.toLowerCase();
    const domain = a.slice(a.lastIndexOf('@') + 1);
    return verified.includes(a) || verified.includes(domain);
  }

  function sendEmail(input, entry) {
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      throw new SesError(400, 'SerializationException', 'Malformed request body');
    }
    const content = input.Content;
    if (!content || typeof content !== 'object') {
      throw bad("1 validation error detected: Value null at 'content' failed to satisfy " +
        'constraint: Member must not be null');
    }
    const dest = input.Destination || {};
    const to = [...(dest.ToAddresses || []), ...(dest.CcAddresses || []),
                ...(dest.BccAddresses || [])];
    if (to.length > MAX_RECIPIENTS) {
      throw new SesError(400, 'MessageRejected', 'Recipient count exceeds 50.');
    }
    let raw = null;
    if (content.Raw) {
      const data = content.Raw.Data;
      if (typeof data !== 'string' || data.length === 0 ||
          !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
        throw bad('Raw message data must be base64-encoded and not empty.');
      }
      raw = Buffer.from(data, 'base64');
      if (raw.length > MAX_MESSAGE_BYTES) {
        throw new SesError(400, 'MessageRejected',
          'Message length is more than 40 megabytes (MB).');
      }
    } else if (!content.Simple && !content.Template) {
      throw bad('Content must contain Simple, Raw or Template.');
    }
    const fromHeader = raw ? /^From:\s*(.+)$/mi.exec(raw.toString('utf8')) : null;
    const from = input.FromEmailAddress || (fromHeader ? fromHeader[1].trim() : null);
    if (!from) throw bad('Missing sender: FromEmailAddress or a From header is required.');
    if (to.length === 0 && !raw) throw bad('No recipients.');
    if (!isVerified(addressOf(from))) {
      throw new SesError(400, 'MessageRejected',
        'Email address is not verified. The following identities failed the check in ' +
        `region ${region.toUpperCase()}: ${addressOf(from)}`);
    }
    const id = messageId();
    messages.push({ time: Date.now(), from, to, raw: raw ? raw.toString('utf8') : null,
                    rawBytes: raw, simple: content.Simple || null, messageId: id });
    entry.messageId = id;
    return { MessageId: id };
  }

  async function handle(req, res, body) {
    const url = req.url || '/';
    const path = url.split('?')[0];
    const entry = { time: Date.now(), method: req.method, path: url, status: 0, signature: null,
                    body: null, error: null, messageId: null };
    requests.push(entry);
    try {
      entry.body = JSON.parse(body.toString('utf8'));
    } catch {
      entry.body = null;
    }
    const v = await verifySigV4(req, body, keys, { service: 'ses', region });
    entry.signature = v.ok ? 'ok' : v.reason;
    entry.signedHeaders = v.ok ? v.signedHeaders : null;
    if (!v.ok) {
      badSignatures++;
      const status = v.code === 'MissingAuthenticationToken' ? 400 : 403;
      entry.status = status;
      entry.error = v.code;
      const message = v.code === 'InvalidSignatureException'
        ? 'The request signature we calculated does not match the signature you provided. ' +
          'Check your AWS Secret Access Key and signing method. Consult the service ' +
          'documentation for details.'
        : v.reason;
      return sendError(res, new SesError(status, v.code, message, CORAL_NS));
    }
    const kind = faults.length ? faults.shift() : 'ok';
    if (kind !== 'ok') {
      entry.error = `fault:${kind}`;
      if (kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return undefined;
      }
      const err = FAULTS[kind]();
      entry.status = err.status;
      return sendError(res, err);
    }
    try {
      if (req.method !== 'POST' || path !== SEND_PATH) {
        throw new SesError(404, 'NotFoundException', `No operation at ${req.method} ${path}`);
      }
      const out = sendEmail(entry.body, entry);
      entry.status = 200;
      return send(res, 200, out);
    } catch (e) {
      if (!(e instanceof SesError)) throw e;
      entry.status = e.status;
      entry.error = e.code;
      return sendError(res, e);
    }
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent) sendError(res, new SesError(500, 'InternalFailure', String(e), CORAL_NS));
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
    messages,
    get badSignatures() { return badSignatures; },
    // the next n requests fail with kind (see the header); 'ok' answers
    failNext(n, kind) {
      if (kind !== 'hang' && kind !== 'ok' && !FAULTS[kind]) {
        throw new Error(`unknown fault ${kind}`);
      }
      for (let i = 0; i < n; i++) faults.push(kind);
    },
    pendingFaults: () => faults.length,
    clearFaults() { faults.length = 0; },
    releaseHangs() {
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    reset() {
      requests.length = 0;
      messages.length = 0;
      badSignatures = 0;
      faults.length = 0;
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

// standalone: node tests/aws/ses_double.mjs --port P --key K --secret S
// [--token T] [--region R] [--verified ADDRESS_OR_DOMAIN]...
if (isMain(import.meta.url)) {
  const { common, many } = standaloneOptions('verified');
  const d = await startSesDouble({ ...common, verified: many });
  serveUntilSignal(d, `ses double listening on ${d.endpoint}`);
}
