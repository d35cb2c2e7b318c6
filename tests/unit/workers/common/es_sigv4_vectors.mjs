// es_sigv4_vectors.mjs - prints the expected signatures that
// es_sigv4_test.c hard-codes, computed by AWS's own signer.
//
//   node tests/unit/workers/common/es_sigv4_vectors.mjs
//
// Each case is signed with @smithy/signature-v4 (the signer inside every
// AWS SDK for JavaScript v3) the way AWS checks it: applyChecksum false and
// uriEscapePath = (service !== 's3'), at a fixed time. The host header is
// passed explicitly (smithy signs the headers it is given; it adds
// x-amz-date and x-amz-security-token itself), as is x-amz-content-sha256
// for s3 (es_sigv4 adds it, smithy only reads it). Run it again and paste
// the output into the test if a case changes.

import crypto from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const TEMP = { accessKeyId: 'ASIAEXAMPLETEMP', secretAccessKey: 'temp/Secret+0123456789',
               sessionToken: 'IQoJb3JpZ2luX2VjEA0aCXVzLWVhc3QtMSJHMEUCIQD+token/==' };
const NOW = 1759320000; // 2025-10-01T12:00:00Z

const BEDROCK_BODY = '{"messages":[{"role":"user","content":[{"text":"hi"}]}],' +
  '"inferenceConfig":{"maxTokens":800,"temperature":0.2}}';

const cases = [
  { name: 'bedrock_converse', creds: KEY, service: 'bedrock', region: 'us-east-1', method: 'POST',
    host: 'bedrock-runtime.us-east-1.amazonaws.com',
    path: '/model/global.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse',
    headers: { 'content-type': 'application/json' }, body: BEDROCK_BODY },
  { name: 'query_sorted', creds: KEY, service: 'ses', region: 'eu-west-1', method: 'GET',
    host: 'email.eu-west-1.amazonaws.com', path: '/v2/email/identities',
    query: 'PageSize=10&NextToken=abc%2Fdef%3D&Filter=a%20b', headers: {}, body: '' },
  { name: 'session_token', creds: TEMP, service: 'ses', region: 'us-east-1', method: 'POST',
    host: '127.0.0.1:9555', path: '/v2/email/outbound-emails',
    headers: { 'content-type': 'application/json' },
    body: '{"FromEmailAddress":"a@example.com","Destination":{"ToAddresses":["b@example.com"]},' +
          '"Content":{"Raw":{"Data":"U3ViamVjdDogaGkNCg0KaGkNCg=="}}}' },
  { name: 's3_put', creds: KEY, service: 's3', region: 'us-east-1', method: 'PUT',
    host: 'echostream-lake.s3.us-east-1.amazonaws.com',
    path: '/source%3Dreddit/dt%3D2026-11-25/a%20b.jsonl.zst',
    headers: { 'content-type': 'application/octet-stream' }, body: 'object body', s3sha: true },
  { name: 'json_target_spaces', creds: KEY, service: 'comprehend', region: 'us-east-1',
    method: 'POST', host: 'comprehend.us-east-1.amazonaws.com', path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1',
               'x-amz-target': '  Comprehend_20171127.BatchDetectSentiment  ',
               'x-echostream-note': 'a   b \t c' },
    body: '{"TextList":["good"],"LanguageCode":"en"}' },
  { name: 'get_vanilla', creds: KEY, service: 'service', region: 'us-east-1', method: 'GET',
    host: 'example.amazonaws.com', path: '/', headers: {}, body: '', at: '2015-08-30T12:36:00Z' },
  { name: 'dot_segments', creds: KEY, service: 'execute-api', region: 'us-east-1', method: 'GET',
    host: 'example.amazonaws.com', path: '/a//b/./c/../d%2Fe/', headers: {}, body: '' },
];

function parseQuery(qs) {
  const q = {};
  for (const part of (qs || '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    q[decodeURIComponent(eq < 0 ? part : part.slice(0, eq))] =
      eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
  }
  return q;
}

for (const c of cases) {
  const headers = { host: c.host, ...c.headers };
  if (c.s3sha) headers['x-amz-content-sha256'] = crypto.createHash('sha256').update(c.body).digest('hex');
  const signer = new SignatureV4({ credentials: c.creds, region: c.region, service: c.service,
                                   sha256: Sha256, applyChecksum: false,
                                   uriEscapePath: c.service !== 's3' });
  const out = await signer.sign({ method: c.method, protocol: 'https:', hostname: c.host.replace(/:\d+$/, ''),
                                  path: c.path, query: parseQuery(c.query), headers,
                                  body: c.body },
                                { signingDate: c.at ? new Date(c.at) : new Date(NOW * 1000) });
  console.log(`${c.name}:\n  ${out.headers.authorization}`);
  if (c.name === 'bedrock_converse') {
    // the same request signed with the path as sent (libcurl 7.88's way):
    // a signature AWS refuses, which es_sigv4 must not produce
    const curlWay = new SignatureV4({ credentials: c.creds, region: c.region, service: c.service,
                                      sha256: Sha256, applyChecksum: false, uriEscapePath: false });
    const bad = await curlWay.sign({ method: c.method, protocol: 'https:', hostname: c.host,
                                     path: c.path, query: {}, headers: { host: c.host, ...c.headers },
                                     body: c.body }, { signingDate: new Date(NOW * 1000) });
    console.log(`${c.name}_as_sent (refused by AWS):\n  ${bad.headers.authorization}`);
  }
}
