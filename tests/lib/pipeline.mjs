// pipeline.mjs - for the suites that check "every comment once" end to end
// across a Redis restart, a failover or two of each worker: the
// environment of ingest polling the Reddit test server and of the mirror
// sending to the SQS test double, and reading back what the pipeline
// produced (the comment entries of the ingest stream and the messages the
// mirror put into the queue). Both read-backs return counts per comment
// id, so a suite sees a missing comment and a doubled one alike.

import { SQSClient, ReceiveMessageCommand } from '@aws-sdk/client-sqs';

import { STREAM } from './enrich.mjs';

// ingest polling reddit (tests/reddit/server.mjs) fast and without a rate
// limit of its own; the stream is not trimmed while the suite counts what
// entered it. The caller adds Redis, the stream's groups and the rest.
export function ingestEnv(reddit) {
  return {
    ECHOSTREAM_REDDIT_API_URL: reddit.url,
    ECHOSTREAM_REDDIT_TOKEN_URL: reddit.tokenUrl,
    ECHOSTREAM_REDDIT_CLIENT_ID: reddit.clientId,
    ECHOSTREAM_REDDIT_CLIENT_SECRET: reddit.clientSecret,
    ECHOSTREAM_REDDIT_QPM: '100000',
    ECHOSTREAM_REDDIT_TIMEOUT: '3',
    ECHOSTREAM_INGEST_MIN_INTERVAL: '0.1',
    ECHOSTREAM_INGEST_MAX_INTERVAL: '0.3',
    ECHOSTREAM_INGEST_WATCH_REFRESH: '0.2',
    ECHOSTREAM_STREAM_TRIM_INTERVAL: '3600',
  };
}

// ingestEnv, and the mirror sending to the SQS double's queue with the
// test's credentials (key: { accessKeyId, secretAccessKey })
export function pipelineEnv({ reddit, sqs, queue, region, key }) {
  return {
    ...ingestEnv(reddit),
    ECHOSTREAM_MIRROR_QUEUE_URL: sqs.queueUrl(queue),
    ECHOSTREAM_MIRROR_BATCH_WAIT_MS: '200',
    ECHOSTREAM_MIRROR_BACKOFF_CAP_MS: '300',
    ECHOSTREAM_MIRROR_CLAIM_IDLE_MS: '1000',
    ECHOSTREAM_AWS_REGION: region,
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
  };
}

// comment id -> { n: entries, f: fields of its first entry }, paged through
// XRANGE (entries are a few thousand at most)
export async function streamComments(redis) {
  const out = new Map();
  let start = '-';
  for (;;) {
    const page = await redis.cmd('XRANGE', STREAM, start, '+', 'COUNT', 1000);
    for (const [, fields] of page) {
      const f = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      if (f.type !== 'comment') continue;
      const e = out.get(f.id);
      if (e) e.n++; else out.set(f.id, { n: 1, f });
    }
    if (page.length < 1000) break;
    start = `(${page[page.length - 1][0]}`;
  }
  return out;
}

// comment id -> messages in the queue, read with the real AWS SDK client
// (every message is received once: a long visibility time-out)
export async function sqsMessageCounts(sqs, queue, { region, credentials }) {
  const client = new SQSClient({ endpoint: sqs.endpoint, region, credentials });
  const n = new Map();
  try {
    for (;;) {
      const out = await client.send(new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrl(queue), MaxNumberOfMessages: 10,
        VisibilityTimeout: 600, WaitTimeSeconds: 0 }));
      if (!out.Messages || out.Messages.length === 0) break;
      for (const m of out.Messages) {
        const id = JSON.parse(m.Body).id;
        n.set(id, (n.get(id) || 0) + 1);
      }
    }
  } finally {
    client.destroy();
  }
  return n;
}

// True when the mirror has taken every stream entry and acknowledged it:
// nothing pending in its group, its last delivered id the stream's last
export async function mirrorCaughtUp(redis) {
  const p = await redis.cmd('XPENDING', STREAM, 'mirror');
  const g = (await redis.cmd('XINFO', 'GROUPS', STREAM))
    .find((x) => x[1] === 'mirror');
  const last = await redis.cmd('XREVRANGE', STREAM, '+', '-', 'COUNT', 1);
  return Number(p[0]) === 0 &&
    g[g.indexOf('last-delivered-id') + 1] === last[0][0];
}
