// bedrock_ses_doubles.test.mjs - the Bedrock and SES v2 test doubles speak
// the real wire formats: the real AWS SDK for JavaScript
// (@aws-sdk/client-bedrock-runtime ConverseCommand with a real model id,
// ':' and all; @aws-sdk/client-sesv2 SendEmailCommand with Raw content)
// runs against them and succeeds, reads their errors as the typed
// exceptions AWS's answers become, and a wrong secret gets 403
// InvalidSignatureException from the doubles' SigV4 check.
//
// The Bedrock Runtime client defaults to an HTTP/2 handler (its streaming
// operations need one); Converse is plain request and answer, so the tests
// give it the HTTP/1.1 handler every other AWS client uses (taken from an
// SESv2Client, so no undeclared package is imported), which is what the
// loopback double (and EchoStream's libcurl client) speaks.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BedrockRuntimeClient, ConverseCommand, ThrottlingException, ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { countTokens, replyText, startBedrockDouble } from '../../aws/bedrock_double.mjs';
import { startSesDouble } from '../../aws/ses_double.mjs';

const KEY = { accessKeyId: 'AKIABEDROCKSES00001', secretAccessKey: 'bedrock/Ses+Secret0123456789abcdef' };
const TEMP = { accessKeyId: 'ASIABEDROCKTEMP0001', secretAccessKey: 'temp/Secret+42',
               sessionToken: 'IQoJb3JpZ2luX2VjEA0+temp/token==' };
const REGION = 'us-east-1';
const MODEL = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';

let bd;
let ses;
const clients = [];

before(async () => {
  bd = await startBedrockDouble({ keys: [KEY, TEMP], region: REGION });
  ses = await startSesDouble({ keys: [KEY, TEMP], region: REGION,
                               verified: ['example.com'] });
});

after(async () => {
  for (const c of clients) c.destroy();
  await bd.stop();
  await ses.stop();
});

// the HTTP/1.1 request handler an SESv2Client is built with
function http1Handler() {
  const donor = new SESv2Client({ region: REGION });
  clients.push(donor);
  assert.equal(donor.config.requestHandler.metadata.handlerProtocol, 'http/1.1');
  return donor.config.requestHandler;
}

function bedrock(credentials = KEY, extra = {}) {
  const c = new BedrockRuntimeClient({ endpoint: bd.endpoint, region: REGION, credentials,
                                       maxAttempts: 1, requestHandler: http1Handler(),
                                       ...extra });
  clients.push(c);
  return c;
}

function sesv2(credentials = KEY) {
  const c = new SESv2Client({ endpoint: ses.endpoint, region: REGION, credentials,
                              maxAttempts: 1 });
  clients.push(c);
  return c;
}

const converse = (text, cfg = { maxTokens: 200, temperature: 0.2 }) => new ConverseCommand({
  modelId: MODEL,
  system: [{ text: 'You summarize Reddit comments.' }],
  messages: [{ role: 'user', content: [{ text }] }],
  inferenceConfig: cfg,
});

test('the SDK\'s Converse with a model id holding \':\' is answered in the real shape', async () => {
  bd.reset();
  const out = await bedrock().send(converse('<comment>great product</comment>'));
  const want = replyText({ system: 'You summarize Reddit comments.',
                           user: '<comment>great product</comment>' });
  assert.equal(out.output.message.role, 'assistant');
  assert.deepEqual(out.output.message.content, [{ text: want }]);
  assert.equal(out.stopReason, 'end_turn');
  assert.equal(out.usage.outputTokens, countTokens(want));
  assert.equal(out.usage.totalTokens, out.usage.inputTokens + out.usage.outputTokens);
  assert.ok(out.metrics.latencyMs >= 1);
  const [r] = bd.requests;
  assert.equal(r.signature, 'ok');
  assert.equal(r.model, MODEL);
  assert.equal(r.path, '/model/global.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse');
  assert.equal(r.maxTokens, 200);
  assert.equal(r.temperature, 0.2);
  assert.equal(r.system, 'You summarize Reddit comments.');
  assert.equal(r.user, '<comment>great product</comment>');
});

test('temporary credentials: the SDK\'s signed session token is accepted', async () => {
  const out = await bedrock(TEMP).send(converse('hello'));
  assert.equal(out.stopReason, 'end_turn');
});

test('maxTokens cuts the answer and says max_tokens', async () => {
  bd.setReply(() => 'word '.repeat(100));
  try {
    const out = await bedrock().send(converse('x', { maxTokens: 5 }));
    assert.equal(out.stopReason, 'max_tokens');
    assert.equal(out.usage.outputTokens, 5);
    assert.equal(out.output.message.content[0].text.length, 20);
  } finally {
    bd.setReply(null);
  }
});

test('Bedrock errors reach the SDK as its typed exceptions', async () => {
  bd.failNext(1, 'throttle');
  await assert.rejects(bedrock().send(converse('x')), (e) => e instanceof ThrottlingException &&
    e.$metadata.httpStatusCode === 429);
  bd.failNext(1, '503');
  await assert.rejects(bedrock().send(converse('x')),
    (e) => e.name === 'ServiceUnavailableException' && e.$metadata.httpStatusCode === 503);
  bd.failNext(1, 'notready');
  await assert.rejects(bedrock().send(converse('x')),
    (e) => e.name === 'ModelNotReadyException' && e.$metadata.httpStatusCode === 429);
  await assert.rejects(bedrock().send(new ConverseCommand({
    modelId: 'anthropic.no-such-model-v1:0',
    messages: [{ role: 'user', content: [{ text: 'x' }] }],
  })), (e) => e instanceof ValidationException && /model identifier is invalid/.test(e.message));
  await assert.rejects(bedrock().send(converse('x', { maxTokens: 0 })),
    (e) => e instanceof ValidationException);
});

test('the SDK retries throttling and 500 against the double, then succeeds', async () => {
  bd.reset();
  bd.failNext(1, 'throttle');
  bd.failNext(1, '500');
  const out = await bedrock(KEY, { maxAttempts: 3 }).send(converse('retry me'));
  assert.equal(out.stopReason, 'end_turn');
  assert.deepEqual(bd.requests.map((r) => r.status), [429, 500, 200]);
});

test('a wrong secret gets 403 InvalidSignatureException from the Bedrock double', async () => {
  const before = bd.badSignatures;
  await assert.rejects(bedrock({ ...KEY, secretAccessKey: 'wrong' }).send(converse('x')),
    (e) => e.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 403 &&
      /signature we calculated does not match/.test(e.message));
  assert.equal(bd.badSignatures, before + 1);
});

const MIME = 'From: EchoStream <digest@example.com>\r\nTo: ana@example.org\r\n' +
  'Subject: =?UTF-8?B?RGlnZXN0IOKAkyDDqXTDqQ==?=\r\nMIME-Version: 1.0\r\n' +
  'Content-Type: text/plain; charset=UTF-8\r\n\r\nHello \u00e9t\u00e9\r\n';

test('the SDK\'s SendEmail with Raw content is kept byte for byte and answered with a MessageId', async () => {
  ses.reset();
  const out = await sesv2().send(new SendEmailCommand({
    FromEmailAddress: 'EchoStream <digest@example.com>',
    Destination: { ToAddresses: ['ana@example.org'] },
    Content: { Raw: { Data: Buffer.from(MIME, 'utf8') } },
  }));
  assert.match(out.MessageId, /^0100[0-9a-f]{12}-[0-9a-f-]{36}-000000$/);
  assert.equal(ses.messages.length, 1);
  const [m] = ses.messages;
  assert.equal(m.raw, MIME);
  assert.deepEqual(m.to, ['ana@example.org']);
  assert.equal(m.from, 'EchoStream <digest@example.com>');
  assert.equal(m.messageId, out.MessageId);
  assert.equal(ses.requests[0].signature, 'ok');
  // with temporary credentials too
  const again = await sesv2(TEMP).send(new SendEmailCommand({
    Destination: { ToAddresses: ['ana@example.org'] },
    Content: { Raw: { Data: Buffer.from(MIME, 'utf8') } },
  }));
  assert.ok(again.MessageId);
  assert.equal(ses.messages[1].from, 'EchoStream <digest@example.com>');
});

test('SES errors reach the SDK as its typed exceptions', async () => {
  const raw = { Raw: { Data: Buffer.from(MIME) } };
  await assert.rejects(sesv2().send(new SendEmailCommand({
    FromEmailAddress: 'someone@elsewhere.test', Destination: { ToAddresses: ['a@example.org'] },
    Content: raw,
  })), (e) => e.name === 'MessageRejected' && /not verified/.test(e.message) &&
    e.$metadata.httpStatusCode === 400);
  ses.failNext(1, 'throttle');
  await assert.rejects(sesv2().send(new SendEmailCommand({ Content: raw })),
    (e) => e.name === 'TooManyRequestsException' && e.$metadata.httpStatusCode === 429);
  ses.failNext(1, 'limit');
  await assert.rejects(sesv2().send(new SendEmailCommand({ Content: raw })),
    (e) => e.name === 'LimitExceededException');
});

test('a wrong secret gets 403 InvalidSignatureException from the SES double', async () => {
  const before = ses.badSignatures;
  await assert.rejects(sesv2({ ...KEY, secretAccessKey: 'wrong' }).send(new SendEmailCommand({
    Content: { Raw: { Data: Buffer.from(MIME) } },
  })), (e) => e.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 403);
  assert.equal(ses.badSignatures, before + 1);
});
