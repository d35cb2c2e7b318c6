// sqs_double.mjs - an SQS test double on loopback.
//
// It speaks the JSON 1.0 protocol the way @aws-sdk/client-sqs 3.899.0 uses
// it (POST /, content-type application/x-amz-json-1.0, x-amz-target
// AmazonSQS.<Operation>, x-amzn-query-mode: true) so the real SDK can be
// pointed at it to read back what the mirror sent, and it verifies the
// SigV4 signature of every request with AWS's own signer (sigv4.mjs): a bad
// signature gets SQS's 403 and is counted, so a test can assert that every
// request was signed right. Errors have the real shape:
// {"__type":"com.amazonaws.sqs#Code","message":…} plus the
// x-amzn-query-error header ("AWS.SimpleQueueService.Code;Sender") that the
// SDK maps back to the query-protocol error codes.
//
// Operations: CreateQueue, GetQueueUrl, SendMessage, SendMessageBatch,
// ReceiveMessage (MaxNumberOfMessages, WaitTimeSeconds, VisibilityTimeout),
// DeleteMessage, DeleteMessageBatch. Queue URLs are
// http://127.0.0.1:PORT/<account>/<name>.
//
// Faults for tests: failNext(n, kind) makes the next n requests answer 500,
// 503 or a 400 ThrottlingException, or hang (no answer until the client gives
// up or the double stops); failEntries(n, opts) makes the next n
// SendMessageBatch calls list some entries under Failed. Every request is
// logged in double.requests.
//
// Use: const sqs = await startSqsDouble({ accessKeyId, secretAccessKey });
// or standalone: node tests/aws/sqs_double.mjs --port 9324 --key K --secret S

import crypto from 'node:crypto';
import http from 'node:http';
import { verifySigV4 } from './sigv4.mjs';
import { isMain, serveUntilSignal, standaloneOptions } from './standalone.mjs';

const MAX_BATCH_BYTES = 262144;
const ENTRY_ID_RE = /^[A-Za-z0-9_-]{1,80}$/;
// the characters SQS accepts in a message body
const BAD_CHAR_RE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const md5 = (s) => crypto.createHash('md5').update(Buffer.from(s, 'utf8')).digest('hex');

class SqsError extends Error {
  constructor(status, code, message, queryCode, fault = 'Sender', ns = 'com.amazonaws.sqs') {
    super(message);
    this.status = status;
    this.code = code;
    this.queryCode = queryCode || code;
    this.fault = fault;
    this.ns = ns;
  }
}

const nonExistent = () => new SqsError(400, 'QueueDoesNotExist',
  'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue');

const FAULTS = {
  500: () => new SqsError(500, 'InternalFailure', 'We encountered an internal error. Please try again.',
    'InternalFailure', 'Receiver', 'com.amazon.coral.service'),
  503: () => new SqsError(503, 'ServiceUnavailable', 'Service is unable to handle request.',
    'ServiceUnavailable', 'Receiver', 'com.amazon.coral.service'),
  throttle: () => new SqsError(400, 'ThrottlingException', 'Rate exceeded',
    'ThrottlingException', 'Sender', 'com.amazon.coral.availability'),
};

export async function startSqsDouble(opts = {}) {
  const keys = opts.keys || [{ accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey,
                               sessionToken: opts.sessionToken }];
  const region = opts.region || 'us-east-1';
  const account = opts.accountId || '000000000000';
  const queues = new Map(); // name -> { url, messages: [], attributes }
  const faults = [];        // pending whole-request faults
  const entryFaults = [];   // pending per-entry faults
  const hanging = new Set();
  const requests = [];
  let badSignatures = 0;
  let port = 0;

  const queueUrl = (name) => `http://127.0.0.1:${port}/${account}/${name}`;
  function createQueue(name, attributes = {}) {
    if (!queues.has(name)) {
      queues.set(name, { name, url: queueUrl(name), messages: [], attributes });
    }
    return queues.get(name).url;
  }
  function queueOf(input) {
    const url = input.QueueUrl;
    if (typeof url !== 'string') {
      throw new SqsError(400, 'MissingParameter', 'The request must contain the parameter QueueUrl.',
        'MissingParameter');
    }
    const name = url.replace(/\/+$/, '').split('/').pop();
    const q = queues.get(name);
    if (!q) throw nonExistent();
    return q;
  }
  function enqueue(q, body) {
    const m = { MessageId: crypto.randomUUID(), Body: body, MD5OfBody: md5(body),
                visibleAt: 0, receiveCount: 0, receipt: null, sentAt: Date.now() };
    q.messages.push(m);
    return m;
  }
  function checkBody(body) {
    if (typeof body !== 'string' || body.length === 0) {
      return new SqsError(400, 'MissingParameter', 'The request must contain the parameter MessageBody.',
        'MissingParameter');
    }
    if (BAD_CHAR_RE.test(body)) {
      return new SqsError(400, 'InvalidMessageContents', 'Invalid characters found.',
        'InvalidMessageContents');
    }
    if (Buffer.byteLength(body, 'utf8') > MAX_BATCH_BYTES) {
      return new SqsError(400, 'InvalidParameterValue', 'One or more parameters are invalid. ' +
        `Reason: Message must be shorter than ${MAX_BATCH_BYTES} bytes.`, 'InvalidParameterValue');
    }
    return null;
  }

  const ops = {
    CreateQueue(input) {
      if (typeof input.QueueName !== 'string' || !/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(input.QueueName)) {
        throw new SqsError(400, 'InvalidParameterValue', 'Can only include alphanumeric characters, ' +
          'hyphens, or underscores. 1 to 80 in length', 'InvalidParameterValue');
      }
      return { QueueUrl: createQueue(input.QueueName, input.Attributes || {}) };
    },
    GetQueueUrl(input) {
      const q = queues.get(input.QueueName);
      if (!q) throw nonExistent();
      return { QueueUrl: q.url };
    },
    SendMessage(input) {
      const q = queueOf(input);
      const err = checkBody(input.MessageBody);
      if (err) throw err;
      const m = enqueue(q, input.MessageBody);
      return { MessageId: m.MessageId, MD5OfMessageBody: m.MD5OfBody };
    },
    SendMessageBatch(input) {
      const q = queueOf(input);
      const entries = input.Entries;
      if (!Array.isArray(entries) || entries.length === 0) {
        throw new SqsError(400, 'EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.',
          'AWS.SimpleQueueService.EmptyBatchRequest');
      }
      if (entries.length > 10) {
        throw new SqsError(400, 'TooManyEntriesInBatchRequest', 'Maximum number of entries per request are 10.',
          'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
      }
      const ids = new Set();
      let total = 0;
      for (const e of entries) {
        if (typeof e.Id !== 'string' || !ENTRY_ID_RE.test(e.Id)) {
          throw new SqsError(400, 'InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, ' +
            'hyphens and underscores. It can be at most 80 letters long.', 'AWS.SimpleQueueService.InvalidBatchEntryId');
        }
        if (ids.has(e.Id)) {
          throw new SqsError(400, 'BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`,
            'AWS.SimpleQueueService.BatchEntryIdsNotDistinct');
        }
        ids.add(e.Id);
        total += typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody, 'utf8') : 0;
      }
      if (total > MAX_BATCH_BYTES) {
        throw new SqsError(400, 'BatchRequestTooLong', `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes. ` +
          `You have sent ${total} bytes.`, 'AWS.SimpleQueueService.BatchRequestTooLong');
      }
      const fault = entryFaults.length ? entryFaults.shift() : null;
      const Successful = [];
      const Failed = [];
      entries.forEach((e, i) => {
        if (fault && fault.pick(e, i)) {
          Failed.push({ Id: e.Id, SenderFault: fault.senderFault, Code: fault.code,
                        Message: fault.message });
          return;
        }
        const err = checkBody(e.MessageBody);
        if (err) {
          Failed.push({ Id: e.Id, SenderFault: true, Code: err.queryCode, Message: err.message });
          return;
        }
        const m = enqueue(q, e.MessageBody);
        Successful.push({ Id: e.Id, MessageId: m.MessageId, MD5OfMessageBody: m.MD5OfBody });
      });
      return { Successful, Failed };
    },
    async ReceiveMessage(input) {
      const q = queueOf(input);
      const max = input.MaxNumberOfMessages ?? 1;
      if (!Number.isInteger(max) || max < 1 || max > 10) {
        throw new SqsError(400, 'InvalidParameterValue', 'Value for parameter MaxNumberOfMessages is invalid. ' +
          'Reason: Must be between 1 and 10.', 'InvalidParameterValue');
      }
      const wait = Math.min(Number(input.WaitTimeSeconds ?? 0), 20);
      const vt = Number(input.VisibilityTimeout ?? q.attributes.VisibilityTimeout ?? 30);
      const end = Date.now() + wait * 1000;
      for (;;) {
        const now = Date.now();
        const got = q.messages.filter((m) => m.visibleAt <= now).slice(0, max);
        if (got.length || now >= end || stopped) {
          const out = got.map((m) => {
            m.visibleAt = now + vt * 1000;
            m.receiveCount++;
            m.receipt = crypto.randomBytes(24).toString('base64url');
            const msg = { MessageId: m.MessageId, ReceiptHandle: m.receipt, MD5OfBody: m.MD5OfBody, Body: m.Body };
            if (input.AttributeNames || input.MessageSystemAttributeNames) {
              msg.Attributes = { ApproximateReceiveCount: String(m.receiveCount),
                                 SentTimestamp: String(m.sentAt) };
            }
            return msg;
          });
          return out.length ? { Messages: out } : {};
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    DeleteMessage(input) {
      const q = queueOf(input);
      const i = q.messages.findIndex((m) => m.receipt && m.receipt === input.ReceiptHandle);
      if (i < 0) {
        throw new SqsError(400, 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.',
          'ReceiptHandleIsInvalid');
      }
      q.messages.splice(i, 1);
      return {};
    },
    DeleteMessageBatch(input) {
      const q = queueOf(input);
      const Successful = [];
      const Failed = [];
      for (const e of input.Entries || []) {
        const i = q.messages.findIndex((m) => m.receipt && m.receipt === e.ReceiptHandle);
        if (i < 0) {
          Failed.push({ Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid',
                        Message: 'The input receipt handle is invalid.' });
        } else {
          q.messages.splice(i, 1);
          Successful.push({ Id: e.Id });
        }
      }
      return { Successful, Failed };
    },
  };

  function send(res, status, obj, extra = {}) {
    const body = JSON.stringify(obj);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': crypto.randomUUID(),
      ...extra,
    });
    res.end(body);
  }
  function sendError(res, err) {
    send(res, err.status, { __type: `${err.ns}#${err.code}`, message: err.message },
      { 'x-amzn-query-error': `${err.queryCode};${err.fault}` });
  }

  async function handle(req, res, body) {
    const target = String(req.headers['x-amz-target'] || '');
    const op = target.startsWith('AmazonSQS.') ? target.slice(10) : '';
    const entry = { time: Date.now(), op, status: 0, signature: null, entries: 0, error: null };
    requests.push(entry);
    const v = await verifySigV4(req, body, keys, { service: 'sqs', region });
    entry.signature = v.ok ? 'ok' : v.reason;
    if (!v.ok) {
      badSignatures++;
      const status = v.code === 'MissingAuthenticationToken' ? 400 : 403;
      entry.status = status;
      entry.error = v.code;
      return sendError(res, new SqsError(status, v.code, v.reason, v.code, 'Sender',
        'com.amazon.coral.service'));
    }
    if (faults.length) {
      const kind = faults.shift();
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
      return sendError(res, new SqsError(400, 'UnknownOperationException', `Unknown operation ${target}`,
        'UnknownOperationException', 'Sender', 'com.amazon.coral.service'));
    }
    let input;
    try {
      input = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      entry.status = 400;
      return sendError(res, new SqsError(400, 'SerializationException', 'Malformed JSON body',
        'SerializationException', 'Sender', 'com.amazon.coral.service'));
    }
    if (Array.isArray(input.Entries)) entry.entries = input.Entries.length;
    try {
      const out = await ops[op](input);
      entry.status = 200;
      send(res, 200, out);
    } catch (e) {
      if (!(e instanceof SqsError)) throw e;
      entry.status = e.status;
      entry.error = e.code;
      sendError(res, e);
    }
    return undefined;
  }

  let stopped = false;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent) send(res, 500, { __type: 'InternalFailure', message: String(e) });
      });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port || 0, '127.0.0.1', resolve);
  });
  port = server.address().port;
  for (const name of opts.queues || []) createQueue(name);

  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    region,
    queueUrl,
    createQueue,
    requests,
    get badSignatures() { return badSignatures; },
    // the messages a queue holds now (sent and not deleted)
    messages: (name) => (queues.get(name)?.messages || []).map((m) => m.Body),
    // the next n requests fail: kind '500' | '503' | 'throttle' | 'hang'
    failNext(n, kind) {
      if (kind !== 'hang' && !FAULTS[kind]) throw new Error(`unknown fault ${kind}`);
      for (let i = 0; i < n; i++) faults.push(kind);
    },
    // the next n SendMessageBatch calls fail the entries pick(entry, index)
    // selects (default: every other one) with the given code
    failEntries(n, { pick = (e, i) => i % 2 === 1, senderFault = false, code = 'InternalError',
                     message = 'Internal error' } = {}) {
      for (let i = 0; i < n; i++) entryFaults.push({ pick, senderFault, code, message });
    },
    pendingFaults: () => faults.length + entryFaults.length,
    clearFaults() { faults.length = 0; entryFaults.length = 0; },
    // answers nothing to the hanging requests: their connections just close
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
  };
}

// standalone: node tests/aws/sqs_double.mjs --port P --key K --secret S
// [--token T] [--region R] [--queue NAME]...
if (isMain(import.meta.url)) {
  const { common, many } = standaloneOptions('queue');
  const d = await startSqsDouble({
    ...common, queues: many.length ? many : ['echostream'],
  });
  serveUntilSignal(d, `sqs double listening on ${d.endpoint} ` +
                      `(queue ${d.queueUrl(many[0] || 'echostream')})`);
}
