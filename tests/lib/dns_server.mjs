// dns_server.mjs - a tiny authoritative DNS server over UDP for tests that
// must change what a host name resolves to while a program runs (nginx's
// `resolver`, a worker's reconnect after a failover).
//
// It answers A queries from a map the test owns and changes at will:
// set('redis.test', ['127.0.0.2']) takes effect on the next query. A name
// in the map gets its A records (TTL `ttl`, default 1 s) and, for any
// other type (AAAA, which nginx's resolver asks too), an empty NOERROR
// answer, so a resolver neither waits for nor fails on the second query.
// A name not in the map gets NXDOMAIN. Names are matched without case
// and without a trailing dot. Every question is counted per name, so a
// test can show that a program really asked again.
//
// mute(true) drops every query unanswered (a nameserver that is down), so
// a test sees a resolver's time-out. Only what resolvers send is parsed:
// one question, no compression in it. Anything malformed is dropped
// without an answer.

import dgram from 'node:dgram';

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;

// The question section's name as "a.b.c" and the offset after it, or null.
function readName(msg, off) {
  const labels = [];
  for (;;) {
    if (off >= msg.length) return null;
    const len = msg[off];
    if (len === 0) return { name: labels.join('.'), end: off + 1 };
    if (len > 63 || off + 1 + len > msg.length) return null;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
}

// The answer to one query message, or null when it is not worth one.
function answer(msg, records, ttl, asked) {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response, not a query
  if (msg.readUInt16BE(4) !== 1) return null; // exactly one question
  const q = readName(msg, 12);
  if (!q || q.end + 4 > msg.length) return null;
  const qtype = msg.readUInt16BE(q.end);
  const qclass = msg.readUInt16BE(q.end + 2);
  const name = q.name.toLowerCase().replace(/\.$/, '');
  asked.set(name, (asked.get(name) || 0) + 1);
  const question = msg.subarray(12, q.end + 4);

  const addrs = records.get(name);
  const rcode = addrs ? 0 : RCODE_NXDOMAIN;
  const answers = (addrs && qtype === TYPE_A && qclass === CLASS_IN)
    ? addrs : [];
  const head = Buffer.alloc(12);
  head.writeUInt16BE(msg.readUInt16BE(0), 0); // id
  // QR, authoritative, the query's RD copied, RA, rcode
  head.writeUInt16BE(0x8400 | (flags & 0x0100) | 0x0080 | rcode, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((b, i) => { rr[12 + i] = Number(b); });
    return rr;
  });
  return Buffer.concat([head, question, ...rrs]);
}

// Starts the server on 127.0.0.1 and a free UDP port. records: initial
// {name: [ipv4, ...]}. Returns {port, address ("127.0.0.1:PORT", as
// nginx's resolver directive takes it), set(name, ips), remove(name),
// mute(on), asked(name) (questions seen for it, answered or not),
// close()}.
export async function startDnsServer({ records = {}, ttl = 1 } = {}) {
  const map = new Map();
  const asked = new Map();
  let muted = false;
  const norm = (n) => n.toLowerCase().replace(/\.$/, '');
  for (const [n, ips] of Object.entries(records)) map.set(norm(n), ips);

  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const out = answer(msg, map, ttl, asked);
    if (out && !muted) sock.send(out, rinfo.port, rinfo.address);
  });
  sock.on('error', () => {});
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', resolve);
  });
  const { port } = sock.address();
  return {
    port,
    address: `127.0.0.1:${port}`,
    set(name, ips) { map.set(norm(name), ips); },
    remove(name) { map.delete(norm(name)); },
    mute(on) { muted = on; },
    asked(name) { return asked.get(norm(name)) || 0; },
    close() { return new Promise((resolve) => sock.close(() => resolve())); },
  };
}
