// pipeline.mjs - reading back what the pipeline produced, for the suites
// that check "every comment once" end to end across a Redis restart or a
// failover: the comment entries of the ingest stream and the messages the
// mirror put into the SQS test double. Both return counts per comment id,
// so a suite sees a missing comment and a doubled one alike.

import { SQSClient, ReceiveMessageCommand } from '@aws-sdk/client-sqs';

import { STREAM } from './enrich.mjs';

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
