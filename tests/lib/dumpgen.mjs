// dumpgen.mjs - synthetic Reddit comment dumps (RC_*.zst-style NDJSON) for
// the backfill tests and benchmark.
//
// Lines look like Pushshift / Arctic Shift comment objects: keys in the
// dumps' alphabetical order (so the subreddit comes after the body, as in
// real files), non-ASCII text sometimes written as \uXXXX escapes (as
// Python's json.dumps writes it), old-style string created_utc on some
// lines, and with `rich` the dozens of extra fields a real RC line carries.
// Output is deterministic for a seed. writeDump() returns what a backfill
// of the file must produce, so a test can check the stream exactly.
//
// CLI (for tests/bench): node tests/lib/dumpgen.mjs OUT.ndjson LINES [rich]

import { openSync, writeSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WATCHED = ['python', 'golang', 'rust', 'MachineLearning'];
export const UNWATCHED = ['AskReddit', 'pics', 'funny', 'gaming', 'worldnews',
  'todayilearned', 'movies', 'news', 'aww', 'Music', 'datascience',
  'explainlikeimfive', 'science', 'sports', 'books'];
// Checksums are sums of numeric ids modulo this prime (see idChecksum).
export const CHECK_MOD = 1000000007;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPEN = ['', 'Honestly, ', 'I think ', 'Not gonna lie, ', 'Imo ', 'Wow, ',
  'Ugh, ', 'Hot take: '];
const SUBJ = ['this update', 'the new release', 'the borrow checker',
  'the garbage collector', 'this library', 'the docs', 'the café API',
  'the naïve version', 'the compiler', 'the community', 'this benchmark'];
const ADJ = ['great', 'terrible', 'fine', 'not bad', 'awful', 'amazing',
  'really slow', 'surprisingly fast', 'overrated', 'underrated'];
const TAIL = ['.', '!', '...', '?', ' 😂', ' 🙄', ' — seriously.', ' 👍',
  ' "quoted"', ' \\o/', ' (ツ)'];
const EXTRA = ['Edit: typo.', 'Source: I work on it.', 'Thanks!',
  'Über nice.', '日本語もOK。', 'Line one\nline two', 'Tab\there.',
  'Can confirm.'];

function body(r) {
  const n = r() < 0.05 ? 8 + Math.floor(r() * 30) : 1 + Math.floor(r() * 3);
  const parts = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.2) {
      parts.push(EXTRA[Math.floor(r() * EXTRA.length)]);
    } else {
      parts.push(OPEN[Math.floor(r() * OPEN.length)] +
        SUBJ[Math.floor(r() * SUBJ.length)] + ' is ' +
        ADJ[Math.floor(r() * ADJ.length)] +
        TAIL[Math.floor(r() * TAIL.length)]);
    }
  }
  return parts.join(' ');
}

// JSON text with every non-ASCII UTF-16 unit as \uXXXX (Python's default).
function asciiJson(v) {
  return JSON.stringify(v).replace(/[\u0080-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function str(v, ascii) {
  return ascii ? asciiJson(v) : JSON.stringify(v);
}

export function idChecksum(ids) {
  let sum = 0;
  for (const id of ids) sum = (sum + (parseInt(id, 36) % CHECK_MOD)) % CHECK_MOD;
  return sum;
}

const RICH_HEAD = '"all_awardings":[],"archived":false,' +
  '"associated_award":null,';
const RICH_MID = '"author_flair_background_color":null,' +
  '"author_flair_css_class":null,"author_flair_richtext":[],' +
  '"author_flair_template_id":null,"author_flair_text":null,' +
  '"author_flair_text_color":null,"author_flair_type":"text",' +
  '"author_fullname":"t2_1q2w3e4r","author_patreon_flair":false,' +
  '"author_premium":false,"awarders":[],"banned_at_utc":null,';
const RICH_MID2 = '"can_gild":true,"can_mod_post":false,' +
  '"collapsed":false,"collapsed_because_crowd_control":null,' +
  '"collapsed_reason":null,"collapsed_reason_code":null,' +
  '"comment_type":null,"controversiality":0,';
const RICH_MID3 = '"distinguished":null,"edited":false,"gilded":0,' +
  '"gildings":{},';
const RICH_MID4 = '"is_submitter":false,';
const RICH_MID5 = '"locked":false,"name":"t1_%ID%","no_follow":true,';
const RICH_TAIL = '"retrieved_on":1675000000,"score_hidden":false,' +
  '"send_replies":true,"stickied":false,';
const RICH_END = ',"subreddit_name_prefixed":"r/%SUB%",' +
  '"subreddit_type":"public","top_awarded_type":null,' +
  '"total_awards_received":0,"treatment_tags":[],"unrepliable_reason":null,' +
  '"_meta":{"was_deleted_later":false,"note":"a \\"nested\\" {string}"}';

// One comment line; returns the JSON text.
function commentLine(c, rich) {
  const a = c.ascii;
  const created = c.stringCreated ? `"${c.created}"` : String(c.created);
  let s = '{';
  if (rich) s += RICH_HEAD;
  s += `"author":${str(c.author, a)},`;
  if (rich) s += RICH_MID;
  s += `"body":${str(c.body, a)},`;
  if (rich) s += RICH_MID2;
  s += `"created_utc":${created},`;
  if (rich) s += RICH_MID3;
  s += `"id":"${c.id}",`;
  if (rich) s += RICH_MID4;
  s += `"link_id":"${c.link}",`;
  if (rich) s += RICH_MID5.replace('%ID%', c.id);
  s += `"parent_id":"${c.link}",`;
  if (c.permalink) {
    s += `"permalink":"/r/${c.sub}/comments/${c.link.slice(3)}/x/${c.id}/",`;
  }
  if (rich) s += RICH_TAIL;
  s += `"score":${c.score},"subreddit":"${c.sub}","subreddit_id":"t5_2qh0y"`;
  if (rich) s += RICH_END.replace('%SUB%', c.sub);
  return s + '}';
}

// Writes a dump to path. Options:
//   lines        comment lines (malformed and duplicate lines are extra)
//   idBase       numeric id of the first comment (ids are consecutive)
//   watchedShare share of comments in WATCHED subreddits
//   malformedEvery / duplicateEvery  one such extra line per N comments
//   rich         full RC field set (~1 KB lines)
// Returns {lines (total written), comments, watchedIds (unique, watched),
//          watchedLines (incl. duplicates), allIds, malformed}.
export function writeDump(path, opts = {}) {
  const {
    lines = 1000, idBase = 36 ** 6 * 20, seed = 1, watchedShare = 0.25,
    malformedEvery = 0, duplicateEvery = 0, rich = false, keepIds = true,
  } = opts;
  const r = rng(seed);
  const fd = openSync(path, 'w');
  const watchedIds = [];
  const allIds = [];
  let chunk = [];
  let total = 0;
  let malformed = 0;
  let watchedLines = 0;
  let lastWatched = null;
  const flush = () => {
    if (chunk.length) writeSync(fd, chunk.join('\n') + '\n');
    chunk = [];
  };
  for (let i = 0; i < lines; i++) {
    const watched = r() < watchedShare;
    const pool = watched ? WATCHED : UNWATCHED;
    // Zipf-ish: the first subreddits of a pool are the busiest
    const sub = pool[Math.min(pool.length - 1,
      Math.floor(pool.length * r() * r()))];
    const id = (idBase + i).toString(36);
    const c = {
      id, sub, body: body(r),
      author: r() < 0.03 ? '[deleted]' : `user_${Math.floor(r() * r() * 5000)}`,
      created: 1672531200 + Math.floor(i / 10),
      stringCreated: i % 7 === 3,
      link: 't3_' + (36 ** 5 * 10 + Math.floor(r() * 50000)).toString(36),
      score: Math.floor(r() * r() * 200) - 5,
      permalink: r() < 0.5,
      ascii: r() < 0.5,
    };
    const text = commentLine(c, rich);
    chunk.push(text);
    total++;
    if (keepIds) allIds.push(id);
    if (watched) {
      watchedLines++;
      if (keepIds) watchedIds.push(id);
      lastWatched = text;
    }
    if (duplicateEvery && i % duplicateEvery === duplicateEvery - 1 &&
        lastWatched) {
      chunk.push(lastWatched);
      total++;
      watchedLines++;
    }
    if (malformedEvery && i % malformedEvery === malformedEvery - 1) {
      // cut inside the body: the subreddit comes later, so the line is
      // malformed whatever the filter
      const broken = (malformed % 2 === 0)
        ? text.slice(0, text.indexOf('"body":') + 12)
        : 'this is not json {';
      chunk.push(broken);
      total++;
      malformed++;
    }
    if (chunk.length >= 5000) flush();
  }
  flush();
  closeSync(fd);
  return { lines: total, comments: lines, watchedIds, watchedLines, allIds,
           malformed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [out, n, mode] = process.argv.slice(2);
  if (!out || !n) {
    console.error('usage: node dumpgen.mjs OUT.ndjson LINES [rich]');
    process.exit(2);
  }
  const res = writeDump(out, { lines: Number(n), rich: mode === 'rich',
    keepIds: false, seed: 7 });
  console.log(`${res.lines} lines written to ${out}`);
}
