// comprehend_double.mjs - an Amazon Comprehend test double on loopback.
//
// It speaks the JSON 1.1 protocol the way @aws-sdk/client-comprehend
// 3.899.0 uses it (POST /, content-type application/x-amz-json-1.1,
// x-amz-target Comprehend_20171127.<Operation>) for BatchDetectSentiment
// and DetectSentiment, so the real SDK can be pointed at it, and it verifies
// the SigV4 signature of every request with AWS's own signer (sigv4.mjs):
// a bad signature gets a 403 InvalidSignatureException and is counted.
//
// Scores are deterministic so tests can predict them: scoreText(text)
// counts words of two small lists (POSITIVE_WORDS, NEGATIVE_WORDS); only
// positive words -> POSITIVE, only negative -> NEGATIVE, both -> MIXED,
// neither -> NEUTRAL, with probabilities that depend on the counts.
//
// Validation answers have the real shapes: a text over 5,000 bytes of UTF-8
// -> 400 TextSizeLimitExceededException, more than 25 texts -> 400
// BatchSizeLimitExceededException, an empty list or an empty text or a bad
// LanguageCode -> 400 ValidationException "1 validation error detected: …",
// a language Comprehend's sentiment does not support ->
// UnsupportedLanguageException.
//
// Faults for tests: failNext(n, kind) makes the next n requests answer a
// 400 ThrottlingException ('throttle'), 400 TooManyRequestsException
// ('toomany'), 500 InternalServerException ('500'), 503 ('503'), or hang
// ('hang': no answer until the client gives up), queued in order ('ok'
// queues a normal answer, so a test can script a sequence of faults and
// answers); failIndexes(n, opts) puts
// some texts of the next n batches in ErrorList. Every request is logged in
// double.requests with the texts it carried; billedUnits counts the units
// AWS would bill (texts answered in ResultList, 100 characters a unit, at
// least 3).
//
// Use: const cd = await startComprehendDouble({ accessKeyId,
// secretAccessKey }); or standalone:
//   node tests/aws/comprehend_double.mjs --port 9325 --key K --secret S

import crypto from 'node:crypto';
import http from 'node:http';
import { verifySigV4 } from './sigv4.mjs';
import { isMain, serveUntilSignal, standaloneOptions } from './standalone.mjs';

export const MAX_TEXT_BYTES = 5000;
export const MAX_BATCH = 25;
export const POSITIVE_WORDS = ['good', 'great', 'love', 'excellent', 'happy', 'awesome',
  'best', 'nice', 'wonderful', 'fantastic'];
export const NEGATIVE_WORDS = ['bad', 'terrible', 'hate', 'awful', 'worst', 'sad',
  'horrible', 'poor', 'broken', 'angry'];
const LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt', 'ar', 'hi', 'ja', 'ko',
  'zh', 'zh-TW'];
const ALL_LANGUAGE_CODES = [...LANGUAGES, 'he', 'nl', 'pl', 'ru', 'sv', 'tr', 'fi', 'no',
  'da', 'id', 'th', 'ms', 'ta', 'te', 'bn', 'fa', 'ur', 'sw'];

const round = (x) => Math.round(x * 1e6) / 1e6;

// The double's deterministic sentiment of a text (what Comprehend "says").
export function scoreText(text) {
  const words = String(text).toLowerCase().match(/\p{L}+/gu) || [];
  const p = words.filter((w) => POSITIVE_WORDS.includes(w)).length;
  const n = words.filter((w) => NEGATIVE_WORDS.includes(w)).length;
  let Sentiment;
  let s;
  if (p && n) {
    Sentiment = 'MIXED';
    s = { Positive: 0.2 + 0.01 * Math.min(p, 2), Negative: 0.15 + 0.01 * Math.min(n, 2),
          Mixed: 0.6 };
  } else if (p) {
    Sentiment = 'POSITIVE';
    s = { Positive: 0.9 - 0.4 / (p + 1), Negative: 0.02, Mixed: 0.01 };
  } else if (n) {
    Sentiment = 'NEGATIVE';
    s = { Positive: 0.03, Negative: 0.9 - 0.4 / (n + 1), Mixed: 0.01 };
  } else {
    Sentiment = 'NEUTRAL';
    s = { Positive: 0.05, Negative: 0.04, Mixed: 0.01 };
  }
  s.Neutral = 1 - s.Positive - s.Negative - s.Mixed;
  const SentimentScore = { Mixed: round(s.Mixed), Negative: round(s.Negative),
                           Neutral: round(s.Neutral), Positive: round(s.Positive) };
  return { Sentiment, SentimentScore };
}

// AWS's billing units for a text: 100 characters (code points) a unit, at
// least 3.
export function units(text) {
  const chars = [...String(text)].length;
  return Math.max(3, Math.ceil(chars / 100));
}

class ComprehendError extends Error {
  constructor(status, code, message, { lowerMessage = false } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.lowerMessage = lowerMessage; // service-framework errors say "message"
  }
}

const FAULTS = {
  throttle: () => new ComprehendError(400, 'ThrottlingException', 'Rate exceeded',
    { lowerMessage: true }),
  toomany: () => new ComprehendError(400, 'TooManyRequestsException',
    'The number of requests exceeds the limit. Resubmit your request later.'),
  500: () => new ComprehendError(500, 'InternalServerException',
    'An internal server error occurred. Retry your request.'),
  503: () => new ComprehendError(503, 'ServiceUnavailableException',
    'Service is unable to handle request.', { lowerMessage: true }),
};

function validation(what) {
  return new ComprehendError(400, 'ValidationException', `1 validation error detected: ${what}`,
    { lowerMessage: true });
}

function checkLanguage(lang) {
  if (typeof lang !== 'string') {
    throw validation("Value null at 'languageCode' failed to satisfy constraint: " +
      'Member must not be null');
  }
  if (!ALL_LANGUAGE_CODES.includes(lang)) {
    throw validation(`Value '${lang}' at 'languageCode' failed to satisfy constraint: ` +
      `Member must satisfy enum value set: [${ALL_LANGUAGE_CODES.join(', ')}]`);
  }
  if (!LANGUAGES.includes(lang)) {
    throw new ComprehendError(400, 'UnsupportedLanguageException',
      `Amazon Comprehend can not process the language in the input text. ` +
      `Supported languages: ${LANGUAGES.join(', ')}`);
  }
}

function checkText(text, where) {
  if (typeof text !== 'string' || text.length === 0) {
    throw validation(`Value at '${where}' failed to satisfy constraint: Member must satisfy ` +
      'constraint: [Member must have length greater than or equal to 1, Member must not be null]');
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_TEXT_BYTES) {
    throw new ComprehendError(400, 'TextSizeLimitExceededException',
      `Input text size exceeds limit. Max length of request text allowed is ${MAX_TEXT_BYTES} ` +
      `bytes while in this request the text size is ${bytes} bytes`);
  }
}

export async function startComprehendDouble(opts = {}) {
  const keys = opts.keys || [{ accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey,
                               sessionToken: opts.sessionToken }];
  const region = opts.region || 'us-east-1';
  const faults = [];      // pending whole-request faults
  const indexFaults = []; // pending per-text faults
  const hanging = new Set();
  const requests = [];
  let badSignatures = 0;
  let billedUnits = 0;
  let stopped = false;

  const ops = {
    BatchDetectSentiment(input, entry) {
      const list = input.TextList;
      if (!Array.isArray(list)) {
        throw validation("Value null at 'textList' failed to satisfy constraint: " +
          'Member must not be null');
      }
      if (list.length === 0) {
        throw validation("Value '[]' at 'textList' failed to satisfy constraint: " +
          'Member must have length greater than or equal to 1');
      }
      if (list.length > MAX_BATCH) {
        throw new ComprehendError(400, 'BatchSizeLimitExceededException',
          `The number of documents in the request exceeds the limit of ${MAX_BATCH}. ` +
          'Try your request again with fewer documents.');
      }
      list.forEach((t) => checkText(t, 'textList'));
      checkLanguage(input.LanguageCode);
      const fault = indexFaults.length ? indexFaults.shift() : null;
      const ResultList = [];
      const ErrorList = [];
      list.forEach((text, Index) => {
        if (fault && fault.pick(text, Index)) {
          ErrorList.push({ Index, ErrorCode: fault.code, ErrorMessage: fault.message });
          return;
        }
        ResultList.push({ Index, ...scoreText(text) });
        entry.units += units(text);
        entry.scored.push(Index);
      });
      return { ErrorList, ResultList };
    },
    DetectSentiment(input, entry) {
      checkText(input.Text, 'text');
      checkLanguage(input.LanguageCode);
      entry.units += units(input.Text);
      entry.scored.push(0);
      return scoreText(input.Text);
    },
  };

  function send(res, status, obj) {
    const body = JSON.stringify(obj);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': crypto.randomUUID(),
    });
    res.end(body);
  }
  function sendError(res, err) {
    const body = { __type: err.code };
    body[err.lowerMessage ? 'message' : 'Message'] = err.message;
    send(res, err.status, body);
  }

  async function handle(req, res, body) {
    const target = String(req.headers['x-amz-target'] || '');
    const op = target.startsWith('Comprehend_20171127.') ? target.slice(20) : '';
    const entry = { time: Date.now(), op, status: 0, signature: null, texts: [], scored: [],
                    units: 0, language: null, contentType: req.headers['content-type'] || '',
                    error: null };
    requests.push(entry);
    const v = await verifySigV4(req, body, keys, { service: 'comprehend', region });
    entry.signature = v.ok ? 'ok' : v.reason;
    let input = null;
    try {
      input = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      input = null;
    }
    if (input && Array.isArray(input.TextList)) entry.texts = input.TextList;
    if (input && typeof input.Text === 'string') entry.texts = [input.Text];
    if (input) entry.language = input.LanguageCode ?? null;
    if (!v.ok) {
      badSignatures++;
      const status = v.code === 'MissingAuthenticationToken' ? 400 : 403;
      entry.status = status;
      entry.error = v.code;
      return sendError(res, new ComprehendError(status, v.code, v.reason, { lowerMessage: true }));
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
    if (req.method !== 'POST' || !op || !ops[op]) {
      entry.status = 400;
      entry.error = 'UnknownOperationException';
      return sendError(res, new ComprehendError(400, 'UnknownOperationException',
        `Unknown operation ${target}`, { lowerMessage: true }));
    }
    if (input === null || typeof input !== 'object') {
      entry.status = 400;
      entry.error = 'SerializationException';
      return sendError(res, new ComprehendError(400, 'SerializationException',
        'Malformed JSON body', { lowerMessage: true }));
    }
    try {
      const out = ops[op](input, entry);
      entry.status = 200;
      billedUnits += entry.units;
      send(res, 200, out);
    } catch (e) {
      if (!(e instanceof ComprehendError)) throw e;
      entry.status = e.status;
      entry.error = e.code;
      entry.units = 0;
      entry.scored = [];
      sendError(res, e);
    }
    return undefined;
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent) send(res, 500, { __type: 'InternalServerException', Message: String(e) });
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
    get badSignatures() { return badSignatures; },
    // units AWS would bill for everything answered so far
    get billedUnits() { return billedUnits; },
    // requests that reached an operation (signature ok, no injected fault)
    answered: () => requests.filter((r) => r.status === 200),
    // the next n requests fail: 'throttle' | 'toomany' | '500' | '503' |
    // 'hang'; 'ok' queues normal answers, to script a sequence
    failNext(n, kind) {
      if (kind !== 'hang' && kind !== 'ok' && !FAULTS[kind]) {
        throw new Error(`unknown fault ${kind}`);
      }
      for (let i = 0; i < n; i++) faults.push(kind);
    },
    // the next n batches put the texts pick(text, index) selects (default:
    // every other one) in ErrorList with code
    failIndexes(n, { pick = (t, i) => i % 2 === 1, code = 'INTERNAL_SERVER_ERROR',
                     message = 'Internal server error' } = {}) {
      for (let i = 0; i < n; i++) indexFaults.push({ pick, code, message });
    },
    pendingFaults: () => faults.length + indexFaults.length,
    clearFaults() { faults.length = 0; indexFaults.length = 0; },
    releaseHangs() {
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    reset() {
      requests.length = 0;
      badSignatures = 0;
      billedUnits = 0;
      faults.length = 0;
      indexFaults.length = 0;
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

// standalone: node tests/aws/comprehend_double.mjs --port P --key K
// --secret S [--token T] [--region R]
if (isMain(import.meta.url)) {
  const { common } = standaloneOptions();
  const d = await startComprehendDouble(common);
  serveUntilSignal(d, `comprehend double listening on ${d.endpoint}`);
}
