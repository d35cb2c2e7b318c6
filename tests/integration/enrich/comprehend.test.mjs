// comprehend.test.mjs - Amazon Comprehend sentiment against the double.
//
// First the real @aws-sdk/client-comprehend talks to the double, which
// proves the double answers in Comprehend's real wire shape (results,
// ErrorList, validation and throttling errors, bad signatures). Then
// EchoStream's own client is run: the real echostream-sentiment binary with
// --engine comprehend, and the score driver (tests/bench/score.c, es_scorer
// in rounds, printing which engine answered and the units billed) for the
// failure cases: throttling storms, 500s, 503s and timeouts are retried and
// then answered by VADER, the breaker opens (calls stop) and closes again,
// and the units counted equal what the double billed. Every request's
// SigV4 signature is verified by the double with AWS's own signer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ComprehendClient, BatchDetectSentimentCommand, DetectSentimentCommand,
} from '@aws-sdk/client-comprehend';
import { bin } from '../../lib/harness.mjs';
import { awsEnv, driver, feed } from '../../lib/aws_drivers.mjs';
import { startComprehendDouble, scoreText, units } from '../../aws/comprehend_double.mjs';

const KEY = { accessKeyId: 'AKIACOMPREHENDTEST01', secretAccessKey: 'cOmPrEhEnD/Secret+Key0123456789abcdef' };
const REGION = 'us-east-1';
const TARGET = 'Comprehend_20171127.BatchDetectSentiment';

let score; // path of the score driver
const doubles = [];

before(async () => {
  score = await driver('score');
});

after(async () => {
  for (const d of doubles) await d.stop();
});

async function double(opts = {}) {
  const d = await startComprehendDouble({ ...KEY, region: REGION, ...opts });
  doubles.push(d);
  return d;
}

function env(d, extra = {}, key = KEY) {
  return awsEnv(key, {
    ECHOSTREAM_COMPREHEND_ENDPOINT: d.endpoint,
    ECHOSTREAM_COMPREHEND_TIMEOUT: '2',
    ECHOSTREAM_COMPREHEND_BACKOFF_CAP_MS: '50',
    ...extra,
  });
}

// what EchoStream must print for the double's answer to text
function expected(text) {
  const { Sentiment, SentimentScore: s } = scoreText(text);
  return { neg: s.Negative, neu: s.Neutral, pos: s.Positive, compound: s.Positive - s.Negative,
           label: Sentiment.toLowerCase() };
}

function assertScore(got, text, what) {
  const want = expected(text);
  // printed as NLTK rounds: 3 decimals, 4 for compound
  for (const [k, tol] of [['neg', 5e-4], ['neu', 5e-4], ['pos', 5e-4], ['compound', 5e-5]]) {
    assert.ok(Math.abs(got[k] - want[k]) <= tol + 1e-9, `${what}: ${k} ${got[k]} vs ${want[k]}`);
  }
  assert.equal(got.label, want.label, `${what}: label`);
}

// runs the score driver; returns {texts: [per text], rounds: [per round]}
async function runScore(d, input, extra = {}, { engine = 'comprehend', key = KEY } = {}) {
  const r = await feed(score, [engine], input, env(d, extra, key), 'score');
  assert.equal(r.code, 0, `score exited ${r.code}: ${r.stderr}`);
  const all = r.lines.map((l) => JSON.parse(l));
  return { texts: all.filter((x) => !('round' in x)), rounds: all.filter((x) => 'round' in x),
           stderr: r.stderr };
}

const POS = ['I love this great library', 'what a wonderful day, happy', 'best release ever, awesome'];
const NEG = ['this is terrible and broken', 'I hate the worst bugs', 'sad and angry about it'];
const MIX = ['good idea but awful execution', 'nice docs, poor tests'];
const NEU = ['the meeting is at noon', 'rust 1.80 was released'];
const SAMPLE = [...POS, ...NEG, ...MIX, ...NEU];

test('the real AWS SDK gets Comprehend-shaped answers from the double', async () => {
  const d = await double();
  const client = new ComprehendClient({ endpoint: d.endpoint, region: REGION, credentials: KEY,
                                        maxAttempts: 1 });
  try {
    const out = await client.send(new BatchDetectSentimentCommand({ TextList: SAMPLE,
                                                                   LanguageCode: 'en' }));
    assert.equal(out.ErrorList.length, 0);
    assert.equal(out.ResultList.length, SAMPLE.length);
    for (const r of out.ResultList) {
      const want = scoreText(SAMPLE[r.Index]);
      assert.equal(r.Sentiment, want.Sentiment);
      assert.deepEqual(r.SentimentScore, want.SentimentScore);
    }
    assert.deepEqual(out.ResultList.map((r) => r.Sentiment).slice(0, 4),
      ['POSITIVE', 'POSITIVE', 'POSITIVE', 'NEGATIVE']);

    const one = await client.send(new DetectSentimentCommand({ Text: MIX[0], LanguageCode: 'en' }));
    assert.equal(one.Sentiment, 'MIXED');
    assert.deepEqual(one.SentimentScore, scoreText(MIX[0]).SentimentScore);

    d.failIndexes(1, { pick: (t, i) => i === 1 });
    const part = await client.send(new BatchDetectSentimentCommand({ TextList: POS,
                                                                    LanguageCode: 'en' }));
    assert.deepEqual(part.ErrorList, [{ Index: 1, ErrorCode: 'INTERNAL_SERVER_ERROR',
                                        ErrorMessage: 'Internal server error' }]);
    assert.deepEqual(part.ResultList.map((r) => r.Index), [0, 2]);

    const refused = async (input, name, re) => {
      await assert.rejects(client.send(new BatchDetectSentimentCommand(input)), (e) => {
        assert.equal(e.name, name);
        assert.equal(e.$metadata.httpStatusCode, 400);
        if (re) assert.match(e.message, re);
        return true;
      });
    };
    await refused({ TextList: Array(26).fill('x'), LanguageCode: 'en' },
      'BatchSizeLimitExceededException', /exceeds the limit of 25/);
    await refused({ TextList: ['ok', 'é'.repeat(2501)], LanguageCode: 'en' },
      'TextSizeLimitExceededException', /5002 bytes/);
    await refused({ TextList: [], LanguageCode: 'en' }, 'ValidationException',
      /^1 validation error detected: Value '\[\]' at 'textList'/);
    await refused({ TextList: ['x'], LanguageCode: 'xx' }, 'ValidationException',
      /at 'languageCode' failed to satisfy constraint/);
    await refused({ TextList: ['x'], LanguageCode: 'nl' }, 'UnsupportedLanguageException');
    d.failNext(1, 'throttle');
    await refused({ TextList: ['x'], LanguageCode: 'en' }, 'ThrottlingException', /Rate exceeded/);
    assert.equal(d.badSignatures, 0, 'the SDK signs right and the double agrees');

    const wrong = new ComprehendClient({ endpoint: d.endpoint, region: REGION, maxAttempts: 1,
      credentials: { ...KEY, secretAccessKey: 'not-the-secret' } });
    await assert.rejects(wrong.send(new DetectSentimentCommand({ Text: 'x', LanguageCode: 'en' })),
      (e) => e.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 403);
    wrong.destroy();
    assert.equal(d.badSignatures, 1, 'a wrong secret is caught');
  } finally {
    client.destroy();
  }
});

test('echostream-sentiment --engine comprehend answers what the double says, 25 texts a call',
  async () => {
    const d = await double();
    const texts = Array.from({ length: 60 }, (_, i) => `${SAMPLE[i % SAMPLE.length]} #${i}`);
    const r = await feed(bin('sentiment'), ['--engine', 'comprehend'], `${texts.join('\n')}\n`,
      env(d), 'sentiment');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines.length, 60);
    r.lines.forEach((l, i) => assertScore(JSON.parse(l), texts[i], `line ${i}`));
    const calls = d.requests;
    assert.deepEqual(calls.map((c) => c.texts.length), [25, 25, 10]);
    assert.deepEqual(calls.flatMap((c) => c.texts), texts, 'every text sent once, in order');
    for (const c of calls) {
      assert.equal(c.op, 'BatchDetectSentiment');
      assert.equal(c.signature, 'ok');
      assert.equal(c.contentType, 'application/x-amz-json-1.1');
      assert.equal(c.language, 'en');
    }
    assert.equal(d.badSignatures, 0);
    assert.doesNotMatch(r.stderr, new RegExp(KEY.secretAccessKey.replace(/[+/]/g, '.')),
      'the secret never reaches a log line');
  });

test('texts are cut under 5,000 bytes at a character boundary and repaired', async () => {
  const d = await double();
  const long = `good ${'é'.repeat(3000)}`; // 6005 bytes, 3005 characters
  const emoji = `bad ${'😀'.repeat(1300)}`; // 5204 bytes
  const broken = Buffer.concat([Buffer.from('nice '), Buffer.from([0xff, 0xc3]),
                                Buffer.from(' end')]);
  const input = Buffer.concat([Buffer.from(`${long}\n${emoji}\n`), broken, Buffer.from('\n')]);
  const out = await runScore(d, input);
  assert.equal(out.texts.length, 3);
  const sent = d.requests[0].texts;
  assert.equal(d.requests.length, 1);
  assert.equal(d.requests[0].status, 200, 'the double accepted every text');
  assert.equal(Buffer.byteLength(sent[0]), 4999); // "good " + 2497 é
  assert.ok(long.startsWith(sent[0]));
  assert.ok(Buffer.byteLength(sent[1]) <= 5000 && emoji.startsWith(sent[1]));
  assert.equal(sent[1], `bad ${'😀'.repeat(1249)}`);
  assert.equal(sent[2], 'nice \uFFFD\uFFFD end');
  sent.forEach((t, i) => {
    assertScore(out.texts[i], t, `text ${i}`);
    assert.equal(out.texts[i].engine, 'comprehend');
    assert.equal(out.texts[i].units, units(t), `units of text ${i}`);
  });
  assert.deepEqual(out.texts.map((t) => t.units), [26, 13, 3]);
  assert.equal(out.texts.reduce((a, t) => a + t.units, 0), d.billedUnits,
    'units counted equal units billed');
});

test('throttling storms, 500s, 503s and timeouts are retried, then VADER answers', async () => {
  const d = await double();
  const vader = await runScore(d, `${SAMPLE.join('\n')}\n`, {}, { engine: 'vader' });
  assert.equal(d.requests.length, 0, 'the vader engine never calls Comprehend');
  const input = `${SAMPLE.join('\n')}\n--\n`.repeat(5);
  // round 1: two throttles then an answer; 2: a 500 and a 503 then an
  // answer; 3: a hang (timeout) then an answer; 4: three throttles (VADER);
  // 5: three TooManyRequests (VADER)
  d.failNext(2, 'throttle');
  d.failNext(1, 'ok');
  d.failNext(1, '500');
  d.failNext(1, '503');
  d.failNext(1, 'ok');
  d.failNext(1, 'hang');
  d.failNext(1, 'ok');
  d.failNext(3, 'throttle');
  d.failNext(3, 'toomany');
  const out = await runScore(d, input, { ECHOSTREAM_COMPREHEND_TIMEOUT: '1' });
  const n = SAMPLE.length;
  assert.equal(out.texts.length, 5 * n);
  for (let round = 0; round < 5; round++) {
    const got = out.texts.slice(round * n, (round + 1) * n);
    got.forEach((g, i) => {
      if (round < 3) {
        assert.equal(g.engine, 'comprehend', `round ${round + 1} text ${i}`);
        assertScore(g, SAMPLE[i], `round ${round + 1} text ${i}`);
        assert.equal(g.units, 3);
      } else {
        assert.equal(g.engine, 'vader', `round ${round + 1} text ${i}`);
        assert.equal(g.units, 0);
        const { engine, units: u, ...s } = g;
        const { engine: e2, units: u2, ...v } = vader.texts[i];
        assert.deepEqual(s, v, 'the fallback is VADER\'s own answer');
      }
    });
  }
  // rounds 1-3 end with an answer (3 + 3 + 2 attempts), 4 and 5 give up
  // after 3 attempts each; every attempt carries every text of its round
  assert.deepEqual(d.requests.map((c) => c.error), [
    'fault:throttle', 'fault:throttle', null, 'fault:500', 'fault:503', null, 'fault:hang', null,
    'fault:throttle', 'fault:throttle', 'fault:throttle',
    'fault:toomany', 'fault:toomany', 'fault:toomany']);
  for (const c of d.requests) assert.deepEqual(c.texts, SAMPLE);
  const rounds = out.rounds;
  assert.equal(rounds.at(-1).comprehend_texts, 3 * n);
  assert.equal(rounds.at(-1).fallback_texts, 2 * n);
  assert.equal(rounds.at(-1).failed_calls, 2);
  assert.equal(out.texts.reduce((a, t) => a + t.units, 0), d.billedUnits,
    'units counted equal units billed: failed calls cost nothing');
  assert.equal(d.badSignatures, 0, 'retries are signed afresh and right');
});

test('texts Comprehend lists in ErrorList fall back alone', async () => {
  const d = await double();
  d.failIndexes(1); // every odd index
  const out = await runScore(d, `${SAMPLE.join('\n')}\n`);
  out.texts.forEach((g, i) => {
    assert.equal(g.engine, i % 2 ? 'vader' : 'comprehend', `text ${i}`);
    assert.equal(g.units, i % 2 ? 0 : 3);
    if (i % 2 === 0) assertScore(g, SAMPLE[i], `text ${i}`);
  });
  assert.equal(d.requests.length, 1, 'a per-text error is not retried as a call failure');
  assert.equal(out.texts.reduce((a, t) => a + t.units, 0), d.billedUnits);
  assert.equal(out.rounds[0].breaker_open, 0);
});

test('the breaker opens after repeated failures, stops calling, then closes again', async () => {
  const d = await double();
  const batch = (k) => Array.from({ length: 25 }, (_, i) => `${SAMPLE[i % SAMPLE.length]} ${k}`);
  // 2 failed calls (3 attempts each) open it; the next round is kept out;
  // after the cool-down one trial call goes through and closes it
  d.failNext(6, '500');
  const input = [...batch('a'), ...batch('b'), '--', ...batch('c'), '--sleep 3500',
                 ...batch('d'), ...batch('e'), '--'].join('\n');
  const out = await runScore(d, `${input}\n`, {
    ECHOSTREAM_COMPREHEND_BREAKER_FAILURES: '2',
    ECHOSTREAM_COMPREHEND_BREAKER_COOLDOWN: '3',
  });
  const [r1, r2, r3] = out.rounds;
  assert.equal(r1.breaker_open, 1, 'open after two failed calls');
  assert.equal(r1.breaker_opens, 1);
  assert.equal(r1.failed_calls, 2);
  assert.equal(r2.breaker_open, 1);
  assert.equal(r2.skipped_calls, 1, 'the open breaker kept the call out');
  assert.equal(r2.calls, r1.calls, 'no request reached Comprehend while open');
  assert.equal(r3.breaker_open, 0, 'closed after a good trial');
  assert.equal(r3.comprehend_texts, 50);
  assert.equal(d.requests.length, 6 + 2);
  assert.ok(out.texts.slice(0, 75).every((t) => t.engine === 'vader'));
  assert.ok(out.texts.slice(75).every((t) => t.engine === 'comprehend'));
  assert.match(out.stderr, /comprehend breaker open/);
  assert.match(out.stderr, /comprehend breaker closed/);
  assert.equal(d.badSignatures, 0);
});

test('a wrong secret falls back at once; a session token is signed', async () => {
  const d = await double();
  const out = await runScore(d, `${POS[0]}\n`, {}, {
    key: { ...KEY, secretAccessKey: 'wrong/secret' } });
  assert.equal(out.texts[0].engine, 'vader');
  assert.equal(d.requests.length, 1, 'an authentication error is not retried');
  assert.equal(d.badSignatures, 1);
  assert.match(out.stderr, /InvalidSignatureException/);
  assert.doesNotMatch(out.stderr, /wrong\/secret/);

  const tok = { accessKeyId: 'ASIATEMPORARY0001', secretAccessKey: 'temp/Secret+1',
                sessionToken: `FwoGZXIvYXdzE${'x'.repeat(300)}==` };
  const d2 = await double({ keys: [tok] });
  const ok = await runScore(d2, `${NEG[0]}\n`, {}, { key: tok });
  assert.equal(ok.texts[0].engine, 'comprehend');
  assertScore(ok.texts[0], NEG[0], 'token');
  assert.equal(d2.badSignatures, 0);
  assert.doesNotMatch(ok.stderr, /FwoGZXIvYXdzE/, 'the token never reaches a log line');
});
