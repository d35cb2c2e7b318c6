// vader_parity.test.mjs - the C VADER port against NLTK 3.8, text for text.
//
// tests/vader/gen_corpus.py writes 100,000 deterministic texts aimed at every
// VADER rule (negation, boosters, caps, "but", !/?, emoticons, idioms,
// punctuation glued to words, non-ASCII text and case, invalid UTF-8, long
// texts); Debian's NLTK (tests/vader/nltk_score.py) and
// `echostream-sentiment --engine vader` score the same bytes, and neg, neu,
// pos and compound must agree within 5e-4 on at least 99.9% of the texts
// (the port is exact: in practice every line is byte-identical). Also
// checked: one valid JSON line out per line in, and the CLI's handling of
// \r, a last line without newline, bad options and a missing lexicon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, bin, tmpDir } from '../../lib/harness.mjs';

const PY = '/usr/bin/python3';
const LEXICON = path.join(ROOT, 'lib/data/vader_lexicon.txt');
const N = 100000;
const TOL = 5e-4;

// Runs cmd with stdin from a file (or a buffer); resolves {code, stdout,
// stderr} with stdout as a Buffer.
function run(cmd, args, { stdinFile, input, env } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, {
            stdio: ['pipe', 'pipe', 'pipe'],
            env: { ...process.env, ...env },
        });
        const out = [];
        const err = [];
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => err.push(d));
        child.on('error', reject);
        child.on('close', (code) => resolve({
            code,
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(err).toString(),
        }));
        child.stdin.on('error', () => {});
        if (stdinFile) {
            fs.createReadStream(stdinFile).pipe(child.stdin);
        } else {
            child.stdin.end(input ?? '');
        }
    });
}

function lines(buf) {
    const s = buf.toString('utf8');
    const l = s.split('\n');
    if (l.length && l[l.length - 1] === '') l.pop();
    return l;
}

test('VADER scores equal NLTK 3.8 on 100,000 generated texts', async () => {
    const dir = await tmpDir('es-vader-');
    const corpus = path.join(dir, 'corpus.txt');
    const gen = await run(PY, [path.join(ROOT, 'tests/vader/gen_corpus.py'),
        String(N), '3']);
    assert.equal(gen.code, 0, `gen_corpus.py failed: ${gen.stderr}`);
    fs.writeFileSync(corpus, gen.stdout);
    const texts = gen.stdout.toString('latin1').split('\n');
    texts.pop();
    assert.equal(texts.length, N);

    const [ref, ours] = await Promise.all([
        run(PY, [path.join(ROOT, 'tests/vader/nltk_score.py'), LEXICON],
            { stdinFile: corpus }),
        run(bin('sentiment'), ['--engine', 'vader', '--lexicon', LEXICON],
            { stdinFile: corpus }),
    ]);
    assert.equal(ref.code, 0, `NLTK (python3-nltk) failed: ${ref.stderr}`);
    assert.equal(ours.code, 0, `echostream-sentiment failed: ${ours.stderr}`);
    const a = lines(ref.stdout);
    const b = lines(ours.stdout);
    assert.equal(a.length, N, 'NLTK line count');
    assert.equal(b.length, N, 'output line count = input line count');

    const keys = ['neg', 'neu', 'pos', 'compound'];
    const bad = [];
    let identical = 0;
    for (let i = 0; i < N; i++) {
        let got;
        try {
            got = JSON.parse(b[i]);
        } catch (e) {
            assert.fail(`line ${i + 1} is not JSON: ${b[i]}`);
        }
        assert.ok(['positive', 'negative', 'neutral'].includes(got.label),
            `line ${i + 1} label`);
        const want = JSON.parse(a[i]);
        const ok = keys.every((k) => typeof got[k] === 'number' &&
            Math.abs(got[k] - want[k]) <= TOL);
        if (!ok) {
            bad.push(i);
        } else if (keys.every((k) => got[k] === want[k])) {
            identical++;
        }
        const c = got.compound;
        const label = c >= 0.05 ? 'positive' : c <= -0.05 ? 'negative'
            : 'neutral';
        assert.equal(got.label, label, `line ${i + 1} label from compound`);
    }
    const agree = N - bad.length;
    const share = (100 * agree) / N;
    console.log(`vader parity: ${agree}/${N} within ${TOL} ` +
        `(${share.toFixed(3)}%), ${identical} identical`);
    if (share < 99.9) {
        const shown = bad.slice(0, 20).map((i) =>
            `#${i + 1} ${JSON.stringify(texts[i].slice(0, 200))}\n` +
            `   nltk ${a[i]}\n   ours ${b[i]}`);
        assert.fail(`${bad.length} of ${N} texts differ from NLTK ` +
            `(first 20):\n${shown.join('\n')}`);
    }
});

test('sentiment CLI: \\r, last line without newline, empty lines', async () => {
    const input = 'I love this!\r\n\nThe food is not good\r\nok';
    const r = await run(bin('sentiment'), ['--lexicon', LEXICON], { input });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), [
        '{"neg":0.0,"neu":0.182,"pos":0.818,"compound":0.6696,' +
            '"label":"positive"}',
        '{"neg":0.0,"neu":0.0,"pos":0.0,"compound":0.0,"label":"neutral"}',
        '{"neg":0.376,"neu":0.624,"pos":0.0,"compound":-0.3412,' +
            '"label":"negative"}',
        '{"neg":0.0,"neu":0.0,"pos":1.0,"compound":0.296,' +
            '"label":"positive"}',
    ]);
});

test('sentiment CLI: a 3 MB line and invalid UTF-8 are scored', async () => {
    const big = Buffer.concat([Buffer.from('good '.repeat(600000)),
        Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('\xc3 bad\n', 'latin1')]);
    const r = await run(bin('sentiment'), ['--lexicon', LEXICON],
        { input: big });
    assert.equal(r.code, 0, r.stderr);
    const l = lines(r.stdout);
    assert.equal(l.length, 2);
    assert.equal(JSON.parse(l[0]).compound, 1);
    assert.equal(JSON.parse(l[1]).label, 'negative');
});

test('sentiment CLI: usage errors and a missing lexicon', async () => {
    const help = await run(bin('sentiment'), ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout.toString() + help.stderr, /--engine/);
    const badEngine = await run(bin('sentiment'), ['--engine', 'bert']);
    assert.equal(badEngine.code, 2);
    assert.match(badEngine.stderr, /vader or comprehend/);
    const missing = await run(bin('sentiment'),
        ['--lexicon', '/nonexistent/vader.txt'], { input: 'good\n' });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /lexicon load failed/);
    assert.equal(missing.stdout.length, 0);
    // the default lexicon is found next to the binary, or through the env
    const dflt = await run(bin('sentiment'), [], { input: 'good\n' });
    assert.equal(dflt.code, 0, dflt.stderr);
    const env = await run(bin('sentiment'), [], {
        input: 'good\n', env: { ECHOSTREAM_VADER_LEXICON: '/nonexistent' },
    });
    assert.equal(env.code, 1);
});
