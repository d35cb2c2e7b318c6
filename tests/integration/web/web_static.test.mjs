// web_static.test.mjs - the dashboard as files and headers, without a
// browser: what nginx sends with the page and its assets, what the build
// weighs, and what its sources may never contain.
//
// The headers are read from the real stack (deploy/local/run.sh, the
// nginx.conf it renders), because a header that is right in a template
// but lost in a location that sets its own add_header is exactly the bug
// to catch: every response of the dashboard is checked, not one.
// The CSP is parsed into directives and each one compared with what the
// security rules allow, so "script-src 'self' 'unsafe-inline'" or a
// connect-src naming a third origin fails even though the header exists.
//
// The source scan strips comments first (a header comment may well say
// "never innerHTML") and looks for the sinks by name.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { ROOT, httpRequest } from '../../lib/harness.mjs';
import {
  DIST, buildWeb, jsFiles, jsGzipBytes, startStack,
} from '../../lib/web.mjs';

const BUDGET_JS_GZIP = 150 * 1024;
const YEAR = 365 * 24 * 3600;

let stack;

before(async () => {
  await buildWeb();
  stack = await startStack({ reddit: false });
});

after(async () => {
  await stack?.stop();
});

const get = (p) => httpRequest({ url: `${stack.url}${p}` });

// "a b; c d e" -> Map(a => [b], c => [d, e])
function parseCsp(value) {
  const m = new Map();
  for (const part of String(value).split(';')) {
    const [name, ...src] = part.trim().split(/\s+/);
    if (name) {
      assert.ok(!m.has(name.toLowerCase()), `directive ${name} given twice`);
      m.set(name.toLowerCase(), src);
    }
  }
  return m;
}

// Everything the security rules ask of one dashboard response's headers.
function checkSecurityHeaders(res, what) {
  const csp = res.headers['content-security-policy'];
  assert.ok(csp, `${what}: Content-Security-Policy is missing`);
  const d = parseCsp(csp);
  const idp = new URL(stack.cognitoUrl).origin;
  assert.deepEqual(d.get('default-src'), ["'self'"], `${what}: default-src`);
  assert.deepEqual(d.get('script-src'), ["'self'"],
                   `${what}: script-src must be 'self' alone (no ` +
                   `'unsafe-inline', 'unsafe-eval', hosts or nonces): ${csp}`);
  const style = d.get('style-src') ?? d.get('default-src');
  assert.ok(!style.includes("'unsafe-inline'"), `${what}: style-src inline`);
  const connect = d.get('connect-src');
  assert.ok(connect, `${what}: connect-src is missing`);
  assert.ok(connect.includes("'self'"), `${what}: connect-src lacks 'self'`);
  for (const src of connect) {
    assert.ok(src === "'self'" || src.replace(/\/+$/, '') === idp,
              `${what}: connect-src allows ${src} (only 'self' and the ` +
              `identity provider ${idp}): ${csp}`);
  }
  assert.deepEqual(d.get('object-src'), ["'none'"], `${what}: object-src`);
  assert.deepEqual(d.get('frame-ancestors'), ["'none'"],
                   `${what}: frame-ancestors`);
  assert.deepEqual(d.get('base-uri'), ["'none'"], `${what}: base-uri`);
  for (const [name, srcs] of d) {
    for (const s of srcs) {
      assert.ok(!/^(\*|https?:|data:|blob:)$/.test(s) ||
                (name === 'img-src' && s === 'data:'),
                `${what}: ${name} allows the wildcard ${s}`);
      assert.ok(!/unsafe-(inline|eval|hashes)|wasm-unsafe-eval/.test(s),
                `${what}: ${name} allows ${s}`);
    }
  }
  assert.equal(res.headers['x-content-type-options'], 'nosniff',
               `${what}: X-Content-Type-Options`);
  const ref = res.headers['referrer-policy'];
  assert.ok(/^(no-referrer|same-origin|strict-origin(-when-cross-origin)?)$/
    .test(ref ?? ''), `${what}: Referrer-Policy is ${ref}`);
}

// The asset paths index.html names.
function assetsOf(html) {
  const out = new Set();
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    if (m[1].startsWith('/assets/') || m[1].startsWith('assets/')) {
      out.add(`/${m[1].replace(/^\//, '')}`);
    }
  }
  return [...out];
}

test('the page: strict CSP, nosniff, a referrer policy, never cached',
  async () => {
    for (const p of ['/', '/index.html']) {
      const res = await get(p);
      assert.equal(res.status, 200, `GET ${p}`);
      assert.match(res.headers['content-type'] ?? '', /^text\/html/);
      checkSecurityHeaders(res, `GET ${p}`);
      assert.match(res.headers['cache-control'] ?? '', /no-cache|no-store/,
                   `GET ${p}: Cache-Control is ` +
                   `${res.headers['cache-control']}`);
      assert.doesNotMatch(res.headers['cache-control'] ?? '',
                          /max-age=[1-9]|immutable/, `GET ${p} cached`);
    }
  });

test('the page has no inline script, style or event handler', async () => {
  const html = (await get('/')).body;
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.ok(scripts.length >= 1, 'the page loads its script');
  for (const [, attrs, body] of scripts) {
    assert.match(attrs, /\bsrc="\/?assets\//, `a script without src: ${attrs}`);
    assert.equal(body.trim(), '', 'script element with inline code');
  }
  assert.doesNotMatch(html, /<style\b/i, 'inline <style>');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'style= attribute');
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'inline event handler');
});

test('hashed assets: cached a year, immutable, same security headers',
  async () => {
    const assets = assetsOf((await get('/')).body);
    assert.ok(assets.some((a) => a.endsWith('.js')), `a JS asset: ${assets}`);
    assert.ok(assets.some((a) => a.endsWith('.css')), `a CSS asset: ${assets}`);
    for (const a of assets) {
      assert.match(a, /^\/assets\/[\w.-]+-[A-Za-z0-9]{6,}\.(js|css)$/,
                   `${a} has a content hash in its name`);
      const res = await get(a);
      assert.equal(res.status, 200, `GET ${a}`);
      const cc = res.headers['cache-control'] ?? '';
      const age = Number((/max-age=(\d+)/.exec(cc) || [])[1] || 0);
      assert.ok(age >= YEAR, `GET ${a}: max-age ${age} < 1 year (${cc})`);
      assert.match(cc, /immutable/, `GET ${a}: not immutable (${cc})`);
      assert.match(res.headers['content-type'] ?? '',
                   a.endsWith('.js') ? /javascript/ : /^text\/css/,
                   `GET ${a}: Content-Type`);
      checkSecurityHeaders(res, `GET ${a}`);
    }
    const missing = await get('/assets/app-NOPE1234.js');
    assert.equal(missing.status, 404, 'an unknown asset is 404, not the page');
  });

test('the JavaScript bundle stays under its gzip budget', () => {
  const files = jsFiles();
  assert.ok(files.length >= 1, 'web/dist holds JavaScript');
  const bytes = jsGzipBytes();
  console.log(`budget: js gzip ${(bytes / 1024).toFixed(1)} KB ` +
              `(${files.length} file(s), limit ${BUDGET_JS_GZIP / 1024} KB)`);
  assert.ok(bytes < BUDGET_JS_GZIP,
            `JS is ${bytes} bytes gzipped, over the ${BUDGET_JS_GZIP} budget`);
});

// Hosts a built file may name: XML namespaces (SVG), Reddit (links to a
// comment, opened by the user), and Cognito's own endpoints when the
// configuration names an AWS user pool. Hosts computed from the
// configuration (`https://${domain}`) are not literals and are skipped.
const ALLOWED_HOSTS = [
  /^www\.w3\.org$/, /^(www\.)?reddit\.com$/,
  /^cognito-idp\.[^/]*\.amazonaws\.com$/, /^[^/]*\.amazoncognito\.com$/,
  /^127\.0\.0\.1(:\d+)?$/, /^localhost(:\d+)?$/,
];

function textFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...textFiles(p));
    else if (/\.(js|mjs|css|html|json|map|txt|svg)$/.test(e.name)) out.push(p);
  }
  return out;
}

// The URLs in a text whose host is not allowed.
function outsideUrls(text) {
  const urls = [
    // a template's interpolation inside the host stands for a label of
    // it; at the end of the host it is the path (`https://host${path}`)
    ...[...text.matchAll(/https?:\/\/((?:\$\{[^}]*\}|[^\s'"`)<>\\/$])*)/g)]
      .map((m) => [m[0], m[1].replace(/(\$\{[^}]*\})+$/, '')
        .replace(/\$\{[^}]*\}/g, 'x')]),
    // protocol-relative URLs in CSS and markup
    ...[...text.matchAll(/(?:url\(\s*['"]?|(?:src|href)=['"])\/\/([^\s'")/]+)/g)]
      .map((m) => [m[0], m[1]]),
  ];
  // an empty host is computed from the configuration (`https://${domain}`)
  return urls.filter(([, host]) => host !== '' &&
    !ALLOWED_HOSTS.some((re) => re.test(host))).map(([url]) => url);
}

test('the build references no outside host', () => {
  const bad = [];
  for (const f of textFiles(DIST)) {
    for (const url of outsideUrls(readFileSync(f, 'utf8'))) {
      bad.push(`${path.relative(ROOT, f)}: ${url}`);
    }
  }
  assert.deepEqual(bad, [], `outside URLs in web/dist:\n${bad.join('\n')}`);
});

test('the outside-host scan finds what it looks for', () => {
  for (const t of ['fetch("https://evil.example/x")',
                   '@font-face{src:url(//fonts.example/a.woff)}',
                   '<script src="//cdn.example/lib.js">',
                   '`https://${a}.tracker.example/p`']) {
    assert.equal(outsideUrls(t).length, 1, `not caught: ${t}`);
  }
  for (const t of ['`https://www.reddit.com${permalink}`',
                   '`https://cognito-idp.${c.region}.amazonaws.com/`',
                   '`https://${domain}`', '"http://www.w3.org/2000/svg"']) {
    assert.deepEqual(outsideUrls(t), [], `false alarm: ${t}`);
  }
});

// web/src without comments: block comments, and line comments that start
// a line or follow whitespace (so '//' inside 'https://' stays).
function code(file) {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|\s)\/\/.*$/gm, '$1');
}

const SINKS = [
  [/\binnerHTML\b/, 'innerHTML'],
  [/\bouterHTML\b/, 'outerHTML'],
  [/\binsertAdjacentHTML\b/, 'insertAdjacentHTML'],
  [/\bdocument\s*\.\s*write(ln)?\b/, 'document.write'],
  [/(^|[^.\w])eval\s*\(/, 'eval('],
  [/\bnew\s+Function\b/, 'new Function'],
  [/\b(window|globalThis|self)\s*\.\s*(alert|confirm|prompt)\b/,
   'window.alert/confirm/prompt'],
  [/(^|[^.\w])(alert|prompt)\s*\(/, 'alert( / prompt('],
  [/setAttribute\(\s*['"`]on[a-z]/i, 'inline event attribute'],
  [/\battrs\s*:\s*\{[^}]*\bon[a-z]+\s*:/, 'inline event attribute (attrs)'],
  [/setAttribute\(\s*['"`]style['"`]/, 'style attribute'],
  [/\.cssText\b/, 'style.cssText'],
  [/\bcreateContextualFragment\b|\bDOMParser\b|\bsrcdoc\b/, 'HTML parser'],
];

function jsSources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...jsSources(p));
    else if (/\.m?js$/.test(e.name)) out.push(p);
  }
  return out;
}

test('web/src uses none of the forbidden sinks', () => {
  const files = jsSources(path.join(ROOT, 'web', 'src'));
  assert.ok(files.length >= 5, 'web/src holds the dashboard');
  const hits = [];
  for (const f of files) {
    const lines = code(f).split('\n');
    lines.forEach((line, i) => {
      for (const [re, name] of SINKS) {
        if (re.test(line)) {
          hits.push(`${path.relative(ROOT, f)}:${i + 1}: ${name}: ` +
                    line.trim().slice(0, 120));
        }
      }
    });
  }
  assert.deepEqual(hits, [], `forbidden sinks:\n${hits.join('\n')}`);
});

test('the sink scan finds what it looks for', () => {
  // the scan must be able to fail: each sink in a line of code is found,
  // and a mention in a comment is not
  const sample = [
    'el.innerHTML = x;', 'a.outerHTML', 'el.insertAdjacentHTML("x", y)',
    'document.write(s)', 'eval(code)', 'new Function("a", b)',
    'window.confirm("sure?")', 'alert(1)', 'el.setAttribute("onclick", f)',
    'el.setAttribute("style", s)',
  ];
  for (const line of sample) {
    assert.ok(SINKS.some(([re]) => re.test(line)), `not caught: ${line}`);
  }
  for (const line of ['confirmInline(anchor, "Delete?")', 'auth.confirm(e)',
                      "h('p', { role: 'alert' })", 'x.evaluate(y)']) {
    assert.ok(!SINKS.some(([re]) => re.test(line)), `false alarm: ${line}`);
  }
});
