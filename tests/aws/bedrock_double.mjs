// bedrock_double.mjs - an Amazon Bedrock Runtime (Converse) test double on
// loopback.
//
// It speaks the REST-JSON protocol the way @aws-sdk/client-bedrock-runtime
// 3.899.0 uses it: POST /model/{modelId}/converse with the model id as one
// escaped path label (every Claude id has a ':', sent as %3A), content-type
// application/json, signing name "bedrock". Every request's SigV4 signature
// is verified with AWS's own signer (sigv4.mjs, which escapes a non-S3 path
// once more as AWS does): a request signed over the path as sent (libcurl
// 7.88's way) gets the 403 InvalidSignatureException real Bedrock answers.
// Errors have the real shape: the code in the x-amzn-ErrorType header
// ("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
// the body {"message": …}.
//
// An answer has the real Converse shape, {"output":{"message":{"role":
// "assistant","content":[{"text":…}]}},"stopReason","usage":{"inputTokens",
// "outputTokens","totalTokens"},"metrics":{"latencyMs"}}, with text
// deterministic from the input (replyText below, or setReply(fn)) and token
// counts of about four characters a token; an answer longer than maxTokens
// is cut and says stopReason "max_tokens".
//
// For tests: every request is logged in double.requests with its model,
// parsed body, system text, user text, maxTokens, temperature, signature
// verdict and status; failNext(n, kind) makes the next n requests fail:
// 'throttle' (429 ThrottlingException), 'notready' (429
// ModelNotReadyException), '500' (InternalServerException), '503'
// (ServiceUnavailableException), 'validation' (400), 'denied' (403
// AccessDeniedException), 'hang' (no answer until the client gives up);
// 'ok' queues a normal answer so a sequence can be scripted.
//
// Use: const bd = await startBedrockDouble({ accessKeyId, secretAccessKey });
// or standalone:
//   node tests/aws/bedrock_double.mjs --port 9330 --key K --secret S
//   [--token T] [--region R] [--model ID]...

import crypto from 'node:crypto';
import http from 'node:http';
import { verifySigV4 } from './sigv4.mjs';
import { isMain, serveUntilSignal, standaloneOptions } from './standalone.mjs';

export const DEFAULT_MODELS = [
  'global.anthropic.claude-haiku-4-5-20251001-v1:0',
  'us.anthropic.claude-haiku-4-5-20251001-v1:0',
  'anthropic.claude-haiku-4-5-20251001-v1:0',
  'anthropic.claude-3-sonnet-20240229-v1:0',
  'anthropic.claude-3-haiku-20240307-v1:0',
];
const PATH_RE = /^\/model\/([^/]+)\/converse$/;
const NS = 'http://internal.amazon.com/coral/com.amazon.bedrock/';
const CORAL_NS = 'http://internal.amazon.com/coral/com.amazon.coral.service/';

// about four characters a token, as a rough English tokenizer counts
export function countTokens(text) {
  return Math.max(1, Math.ceil([...String(text)].length / 4));
}

// the double's deterministic answer to a request
export function replyText({ system, user }) {
  const digest = crypto.createHash('sha256').update(`${system}\n${user}`).digest('hex');
  const words = (String(user).match(/\S+/g) || []).length;
  return `Summary ${digest.slice(0, 12)}: ${words} words read.`;
}

class BedrockError extends Error {
  constructor(status, code, message, ns = NS) {
    super(message);
    this.status = status;
    this.code = code;
    this.ns = ns;
  }
}

const FAULTS = {
  throttle: () => new BedrockError(429, 'ThrottlingException',
    'Too many requests, please wait before trying again.'),
  notready: () => new BedrockError(429, 'ModelNotReadyException',
    'Model is not ready for inference. Wait and try your request again.'),
  500: () => new BedrockError(500, 'InternalServerException',
    'The server encountered an internal error while processing the request.'),
  503: () => new BedrockError(503, 'ServiceUnavailableException',
    'Bedrock is unable to process your request.'),
  validation: () => new BedrockError(400, 'ValidationException',
    'Input is too long for requested model.'),
  denied: () => new BedrockError(403, 'AccessDeniedException',
    "You don't have access to the model with the specified model ID."),
};

const validation = (what) => new BedrockError(400, 'ValidationException', what);

function joinText(blocks, where) {
  if (!Array.isArray(blocks) || blocks.length === 0) {
    throw validation(`1 validation error detected: Value at '${where}' failed to satisfy ` +
      'constraint: Member must have length greater than or equal to 1');
  }
  return blocks.map((b) => {
    if (!b || typeof b.text !== 'string') return '';
    if (b.text.length === 0) {
      throw validation('The text field in the ContentBlock object is blank. ' +
        'Add text to the text field, and try again.');
    }
    return b.text;
  }).join('');
}

// checks a Converse body as Bedrock does; returns what the log keeps
function readConverse(input) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw validation('Malformed input request, please reformat your input and try again.');
  }
  const { messages, system, inferenceConfig } = input;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw validation('A conversation must start with a user message. ' +
      'Try again with a conversation that starts with a user message.');
  }
  if (messages[0].role !== 'user') {
    throw validation('A conversation must start with a user message. ' +
      'Try again with a conversation that starts with a user message.');
  }
  messages.forEach((m, i) => {
    if (m.role !== 'user' && m.role !== 'assistant') {
      throw validation(`1 validation error detected: Value '${m.role}' at 'messages.${i + 1}.` +
        "member.role' failed to satisfy constraint: Member must satisfy enum value set: " +
        '[user, assistant]');
    }
  });
  const userText = messages.filter((m) => m.role === 'user')
    .map((m, i) => joinText(m.content, `messages.${i + 1}.member.content`)).join('\n');
  const systemText = system === undefined ? '' : joinText(system, 'system');
  const cfg = inferenceConfig || {};
  if (cfg.maxTokens !== undefined && (!Number.isInteger(cfg.maxTokens) || cfg.maxTokens < 1)) {
    throw validation(`1 validation error detected: Value '${cfg.maxTokens}' at ` +
      "'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value " +
      'greater than or equal to 1');
  }
  if (cfg.temperature !== undefined &&
      (typeof cfg.temperature !== 'number' || cfg.temperature < 0 || cfg.temperature > 1)) {
    throw validation(`1 validation error detected: Value '${cfg.temperature}' at ` +
      "'inferenceConfig.temperature' failed to satisfy constraint: Member must have value " +
      'less than or equal to 1');
  }
  return { system: systemText, user: userText, maxTokens: cfg.maxTokens ?? null,
           temperature: cfg.temperature ?? null };
}

export async function startBedrockDouble(opts = {}) {
  const keys = opts.keys || [{ accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey,
                               sessionToken: opts.sessionToken }];
  const region = opts.region || 'us-east-1';
  const models = new Set(opts.models && opts.models.length ? opts.models : DEFAULT_MODELS);
  const faults = [];
  const hanging = new Set();
  const requests = [];
  let reply = opts.reply || replyText;
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

  async function handle(req, res, body) {
    const started = Date.now();
    const url = req.url || '/';
    const qi = url.indexOf('?');
    const m = PATH_RE.exec(qi < 0 ? url : url.slice(0, qi));
    let model = null;
    try {
      model = m ? decodeURIComponent(m[1]) : null;
    } catch {
      model = null;
    }
    const entry = { time: started, method: req.method, path: url, model, status: 0,
                    signature: null, body: null, raw: body.toString('utf8'), system: null,
                    user: null, maxTokens: null, temperature: null, text: null, error: null };
    requests.push(entry);
    try {
      entry.body = JSON.parse(entry.raw);
    } catch {
      entry.body = null;
    }
    const v = await verifySigV4(req, body, keys, { service: 'bedrock', region });
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
      return sendError(res, new BedrockError(status, v.code, message, CORAL_NS));
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
      if (req.method !== 'POST' || !m) {
        throw new BedrockError(404, 'UnknownOperationException', 'Unknown operation');
      }
      if (!models.has(model)) throw validation('The provided model identifier is invalid.');
      if (entry.body === null) {
        throw validation('Malformed input request, please reformat your input and try again.');
      }
      Object.assign(entry, readConverse(entry.body));
      let text = String(await reply({ model, system: entry.system, user: entry.user,
                                      body: entry.body }));
      let stopReason = 'end_turn';
      let outputTokens = countTokens(text);
      if (entry.maxTokens !== null && outputTokens > entry.maxTokens) {
        text = [...text].slice(0, entry.maxTokens * 4).join('');
        outputTokens = entry.maxTokens;
        stopReason = 'max_tokens';
      }
      const inputTokens = countTokens(entry.system) + countTokens(entry.user);
      entry.text = text;
      entry.status = 200;
      entry.inputTokens = inputTokens;
      entry.outputTokens = outputTokens;
      return send(res, 200, {
        metrics: { latencyMs: Math.max(1, Date.now() - started) },
        output: { message: { content: [{ text }], role: 'assistant' } },
        stopReason,
        usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      });
    } catch (e) {
      if (!(e instanceof BedrockError)) throw e;
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
        if (!res.headersSent) sendError(res, new BedrockError(500, 'InternalServerException', String(e)));
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
    // requests answered with a Converse result
    answered: () => requests.filter((r) => r.status === 200),
    // the next n requests fail with kind (see the header); 'ok' answers
    failNext(n, kind) {
      if (kind !== 'hang' && kind !== 'ok' && !FAULTS[kind]) {
        throw new Error(`unknown fault ${kind}`);
      }
      for (let i = 0; i < n; i++) faults.push(kind);
    },
    pendingFaults: () => faults.length,
    clearFaults() { faults.length = 0; },
    // fn({model, system, user, body}) -> text (or a promise of it)
    setReply(fn) { reply = fn || replyText; },
    addModel(id) { models.add(id); },
    releaseHangs() {
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    reset() {
      requests.length = 0;
      badSignatures = 0;
      faults.length = 0;
      reply = opts.reply || replyText;
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

// standalone: node tests/aws/bedrock_double.mjs --port P --key K --secret S
// [--token T] [--region R] [--model ID]...
if (isMain(import.meta.url)) {
  const { common, many } = standaloneOptions('model');
  const d = await startBedrockDouble({ ...common, models: many });
  serveUntilSignal(d, `bedrock double listening on ${d.endpoint}`);
}
